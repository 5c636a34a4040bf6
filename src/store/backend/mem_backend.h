// MemBackend: a Backend that keeps every file in memory, for tests and dry runs
// (restic's internal/backend/mem). It honours the whole Backend contract (immutability,
// range reads, NotFound), so code tested against it behaves the same on disk.
//
// Thread-safety: safe to call from many threads at once (one mutex).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "store/backend/backend.h"

namespace clawback::store {

class MemBackend : public Backend {
 public:
  explicit MemBackend(std::string location = "mem:") : location_(std::move(location)) {}

  // Backend
  std::string Location() const override { return location_; }
  Status Create() override;
  Result<bool> Exists() override;
  Status Save(FileType t, const std::string& name, std::string_view data) override;
  Result<std::string> Load(FileType t, const std::string& name, int64_t offset = 0,
                           int64_t length = 0) override;
  Result<FileInfo> Stat(FileType t, const std::string& name) override;
  Status Remove(FileType t, const std::string& name) override;
  Result<std::vector<FileInfo>> List(FileType t) override;

  // Number of files stored, all types together.
  size_t FileCountForTest() const;

 private:
  using Key = std::pair<FileType, std::string>;
  const std::string location_;
  mutable std::mutex mu_;
  std::map<Key, std::string> files_;  // GUARDED_BY(mu_)
};

// Shared by the backends: slices [offset, offset+length) out of a whole file of `size`
// bytes, with the Backend::Load rules (length 0 = to the end; a range past the end is
// Corruption). Returns the byte count to read.
Result<int64_t> CheckRange(std::string_view what, int64_t size, int64_t offset, int64_t length);

}  // namespace clawback::store
