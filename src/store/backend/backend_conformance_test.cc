// The Backend conformance suite (backend_conformance_suite.h) on the in-memory and the
// local-directory backends. S3 runs the same suite in s3_integration_test.cc.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "store/backend/backend_conformance_suite.h"
#include "store/backend/local_backend.h"
#include "store/backend/mem_backend.h"

namespace clawback::store {
namespace {

// A LocalBackend whose directory is removed with it.
class TempLocalBackend : public LocalBackend {
 public:
  explicit TempLocalBackend(std::string dir) : LocalBackend(dir + "/repo"), dir_(std::move(dir)) {}
  ~TempLocalBackend() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  std::string dir_;
};

BackendPtr MakeLocal() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "clawback-local-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return nullptr;
  return std::make_unique<TempLocalBackend>(tmpl);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, BackendConformanceTest,
    ::testing::Values(BackendFactory{"mem",
                                     [] { return BackendPtr(std::make_unique<MemBackend>()); }},
                      BackendFactory{"local", MakeLocal}),
    BackendFactoryName);

}  // namespace
}  // namespace clawback::store
