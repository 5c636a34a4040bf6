// The Backend conformance suite (backend_conformance_suite.h) on the in-memory and the
// local-directory backends, the latter also over an in-memory file system (MemFileSystem). S3 runs the same suite in s3_integration_test.cc.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "common/file_system.h"
#include "common/testing/temp_dir.h"
#include "store/backend/backend_conformance_suite.h"
#include "store/backend/local_backend.h"
#include "store/backend/mem_backend.h"

namespace clawback::store {
namespace {

// A LocalBackend whose directory is removed with it.
class TempLocalBackend : public LocalBackend {
 public:
  explicit TempLocalBackend(test::TempDir dir)
      : LocalBackend(dir.str() + "/repo"), dir_(std::move(dir)) {}

 private:
  test::TempDir dir_;
};

BackendPtr MakeLocal() {
  return std::make_unique<TempLocalBackend>(test::TempDir("clawback-local"));
}

// A LocalBackend over its own MemFileSystem.
class MemFsLocalBackend : public LocalBackend {
 public:
  explicit MemFsLocalBackend(std::unique_ptr<MemFileSystem> fs)
      : LocalBackend("/repo", fs.get()), fs_(std::move(fs)) {}
  ~MemFsLocalBackend() override = default;

 private:
  std::unique_ptr<MemFileSystem> fs_;  // outlives nothing the base needs: the base's
                                       // destructor makes no file-system calls
};

BackendPtr MakeLocalOnMemFs() {
  return std::make_unique<MemFsLocalBackend>(std::make_unique<MemFileSystem>());
}

INSTANTIATE_TEST_SUITE_P(
    Backends, BackendConformanceTest,
    ::testing::Values(BackendFactory{"mem",
                                     [] { return BackendPtr(std::make_unique<MemBackend>()); }},
                      BackendFactory{"local", MakeLocal},
                      BackendFactory{"local_memfs", MakeLocalOnMemFs}),
    BackendFactoryName);

}  // namespace
}  // namespace clawback::store
