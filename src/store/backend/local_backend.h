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
// On failure the temporary is removed (no partial file under a final name, ever).
// Every file-system call goes through a FileSystem (common/file_system.h; tests inject
// faults with FaultFileSystem or run in memory). Directories are 0700. List skips anything that is not a valid file name, so leftover
// temporary files from a crash are invisible (as in restic).
//
// Pack pieces are written by one background I/O thread per backend (an O_DIRECT write
// blocks its caller until the device has the data, ~1 ms per MiB here, which idled a core
// for ~0.1 s per 100 MiB stored); at most 8 pieces wait for it, after that Append blocks.
//
// Thread-safety: safe to call from many threads at once (the file system arbitrates; the
// shared state is the I/O queue and a small pool of staging buffers under a mutex). One
// PendingFile is used by one thread at a time.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/file_system.h"
#include "store/backend/backend.h"

namespace clawback::store {

class LocalBackend : public Backend {
 public:
  // Every file-system call goes to `fs` (not owned; null: FileSystem::Default()).
  explicit LocalBackend(std::string root, FileSystem* fs = nullptr);
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
  // 1 MiB aligned staging buffers of pending packs, kept for reuse (at most 12).
  char* TakeStaging();
  void ReturnStaging(char* buffer);
  // Queues writing `len` bytes of `buffer` at `offset` of `pack`'s file; the I/O thread
  // returns the buffer to the pool when done. Blocks while 8 pieces are queued.
  void QueueWrite(PendingPack* pack, char* buffer, size_t len, uint64_t offset);
  // Waits until every queued piece of `pack` is written.
  void WaitWrites(PendingPack* pack);
  void IoLoop();

  struct PieceWrite {
    PendingPack* pack;
    char* buffer;
    size_t len;
    uint64_t offset;
  };

  std::string root_;
  FileSystem* fs_;
  std::mutex staging_mu_;
  std::vector<char*> staging_free_;  // GUARDED_BY(staging_mu_)

  std::mutex io_mu_;
  std::condition_variable io_cv_;       // a piece queued, a piece written, or stopping
  std::deque<PieceWrite> io_queue_;     // GUARDED_BY(io_mu_)
  bool io_stop_ = false;                // GUARDED_BY(io_mu_)
  std::thread io_thread_;               // started with the first queued piece
};

}  // namespace clawback::store
