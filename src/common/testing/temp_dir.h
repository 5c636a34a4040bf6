// TempDir: a fresh directory for one test, removed with everything in it when the TempDir
// goes (RAII). Replaces the mkdtemp / temp_directory_path fixtures the tests used to copy.
//
//   test::TempDir dir_;                          // a fixture member: one per test
//   OpenLedger("sqlite:" + dir_.File("ledger.db"));
//
// Created under $TMPDIR (else /tmp) as <prefix>-XXXXXX by mkdtemp, so parallel tests (ctest
// -j, several processes) never share one. Test-only. Thread-safety: a value; not shared.
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace clawback::test {

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "clawback-test") {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror(("TempDir: mkdtemp " + tmpl).c_str());
      std::abort();  // no test can run without its directory
    }
    path_ = tmpl;
  }
  ~TempDir() { Remove(); }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TempDir& operator=(TempDir&& other) noexcept {
    if (this != &other) {
      Remove();
      path_ = std::exchange(other.path_, {});
    }
    return *this;
  }

  const std::filesystem::path& path() const { return path_; }
  // The directory as a string, and a name inside it ("…/ledger.db").
  std::string str() const { return path_.string(); }
  std::string File(std::string_view name) const { return (path_ / name).string(); }

 private:
  void Remove() {
    if (path_.empty()) return;
    std::error_code ec;  // a test that left a file read-only must not crash the run
    std::filesystem::remove_all(path_, ec);
    path_.clear();
  }

  std::filesystem::path path_;
};

}  // namespace clawback::test
