// Taking, refreshing and releasing repository locks (restic format spec §13).
//
//   ASSIGN_OR_RETURN(auto lock, RepoLock::Acquire(repo, LockKind::kShared));
//   ... work ...
//   RETURN_IF_ERROR(lock->Release());   // the destructor releases too, ignoring errors
//
// Acquire: list and load all locks; any conflicting one (stale or not — restic 0.14 lets
// stale locks block too) fails with Locked naming it; then write ours, wait (only on
// eventually consistent backends such as S3), list again and back off on a conflict.
// While held, a background thread writes a fresh lock every 5 minutes and removes the
// previous one, so other clients never see it as stale.
//
// Shared for snapshot/restore/ls/diff/cat; exclusive for check, forget, prune.
//
// Thread-safety: a RepoLock may be released from any thread; one owner.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/lock/lock_file.h"
#include "store/repository.h"

namespace clawback::store {

enum class LockKind { kShared, kExclusive };

struct LockOptions {
  // How often the lock is refreshed while held.
  int64_t refresh_every_seconds = kLockRefreshEverySeconds;
  // Wait between writing our lock and re-listing; -1 = 200 ms on S3, 0 elsewhere.
  int64_t settle_millis = -1;
};

class RepoLock {
 public:
  static Result<std::unique_ptr<RepoLock>> Acquire(Repository* repo, LockKind kind,
                                                   const LockOptions& options = {});
  ~RepoLock();
  RepoLock(const RepoLock&) = delete;
  RepoLock& operator=(const RepoLock&) = delete;

  // Stops refreshing and removes the lock file. Idempotent.
  Status Release();
  // Writes a fresh lock now and removes the old one (the refresher calls this).
  Status Refresh();

  // The current lock file (changes on every refresh).
  Id id() const {
    std::lock_guard<std::mutex> l(mu_);
    return id_;
  }

 private:
  RepoLock(Repository* repo, LockInfo info, Id id, const LockOptions& options);
  void RefreshLoop();

  Repository* repo_;
  LockInfo info_;
  Id id_;
  LockOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool released_ = false;
  std::thread refresher_;
};

struct LockEntry {
  Id id;
  LockInfo info;
  bool stale = false;
};
// Every lock in the repository that decodes (undecodable ones are skipped, as restic 0.14).
Result<std::vector<LockEntry>> ListLocks(Repository* repo);
// Removes stale locks (or all with `all`); returns how many were removed.
Result<int> RemoveLocks(Repository* repo, bool all);

}  // namespace clawback::store
