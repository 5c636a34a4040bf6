// LocalBackend: a repository in a local directory, in restic's default layout (format spec
// section 1): config, keys/, locks/, snapshots/, index/, data/00 … data/ff/.
//
// Durability: Save writes "<name>-tmp-<random>" in the target directory (created 0600),
// fsyncs it, makes it read-only (0400, as restic does), renames it to its final name and
// fsyncs the directory, so a file appears whole or not at all, also after a crash. Lock
// files skip both flushes (still written whole and renamed): a lock only matters while
// its writer runs, and one lost to a power failure is harmless. Pack files of 1 MiB or
// more are written with O_DIRECT where the file system allows it (no page-cache copy; see
// WriteDirect in local_backend.cc), others with plain writes.
// Directories are 0700. List skips anything that is not a valid file name, so leftover
// temporary files from a crash are invisible (as in restic).
//
// Thread-safety: safe to call from many threads at once (the file system arbitrates; the
// only shared state is a small pool of staging buffers under a mutex).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/backend/backend.h"

namespace clawback::store {

class LocalBackend : public Backend {
 public:
  explicit LocalBackend(std::string root);
  ~LocalBackend() override;

  // Backend
  std::string Location() const override { return root_; }
  Status Create() override;
  Result<bool> Exists() override;
  Status Save(FileType t, const std::string& name, std::string_view data) override;
  Result<std::string> Load(FileType t, const std::string& name, int64_t offset = 0,
                           int64_t length = 0) override;
  Status LoadInto(FileType t, const std::string& name, int64_t offset, int64_t length,
                  std::string* out) override;
  Result<FileInfo> Stat(FileType t, const std::string& name) override;
  Status Remove(FileType t, const std::string& name) override;
  Result<std::vector<FileInfo>> List(FileType t) override;
  // Packs stream to data/tmp-<random> (O_DIRECT where possible) and are renamed into
  // place at Commit; other types use the in-memory default. A PendingFile must not
  // outlive its backend.
  Result<std::unique_ptr<PendingFile>> Begin(FileType t, size_t size_hint = 0) override;
  // Temporary files: "data/tmp-*" (streamed packs) and "<name>-tmp-*" beside the final
  // names in data/xx/, index/, snapshots/ and keys/ (Save).
  Result<int64_t> RemoveTemporaries() override;

  // Absolute path of a file ("<root>/data/ab/ab…").
  std::string PathOf(FileType t, const std::string& name) const;

 private:
  class PendingPack;
  Status ListDir(const std::string& dir, FileType t, std::vector<FileInfo>* out) const;
  // 1 MiB aligned staging buffers of pending packs, kept for reuse (at most 4).
  char* TakeStaging();
  void ReturnStaging(char* buffer);

  std::string root_;
  std::mutex staging_mu_;
  std::vector<char*> staging_free_;  // GUARDED_BY(staging_mu_)
};

}  // namespace clawback::store
