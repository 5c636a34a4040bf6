#include "store/lock/repo_lock.h"

#include <chrono>

namespace clawback::store {
namespace {

Status ConflictStatus(const LockEntry& e) {
  std::string msg = "repository is already locked: " + e.info.Describe() + " (lock " +
                    e.id.ShortHex() + ")";
  if (e.stale) msg += "; the lock is stale: remove it with `clawback unlock`";
  return Locked(msg);
}

}  // namespace

Result<std::vector<LockEntry>> ListLocks(Repository* repo) {
  ASSIGN_OR_RETURN(auto ids, repo->List(FileType::kLock));
  const Timestamp now = Timestamp::Now();
  const std::string host = ThisHostname();
  std::vector<LockEntry> out;
  for (const auto& id : ids) {
    auto text = repo->LoadUnpacked(FileType::kLock, id);
    if (!text.ok()) continue;  // removed meanwhile, or not ours to read
    auto info = LockInfo::Parse(*text);
    if (!info.ok()) continue;
    LockEntry e{id, std::move(*info), false};
    e.stale = LockIsStale(e.info, now, host);
    out.push_back(std::move(e));
  }
  return out;
}

Result<int> RemoveLocks(Repository* repo, bool all) {
  ASSIGN_OR_RETURN(auto locks, ListLocks(repo));
  int removed = 0;
  for (const auto& l : locks) {
    if (!all && !l.stale) continue;
    Status st = repo->backend()->Remove(FileType::kLock, l.id.Hex());
    if (!st.ok() && st.code() != StatusCode::kNotFound) return st;
    ++removed;
  }
  if (all) {
    // Also undecodable lock files (another password's, or garbage).
    ASSIGN_OR_RETURN(auto ids, repo->List(FileType::kLock));
    for (const auto& id : ids) {
      Status st = repo->backend()->Remove(FileType::kLock, id.Hex());
      if (st.ok()) ++removed;
    }
  }
  return removed;
}

RepoLock::RepoLock(Repository* repo, LockInfo info, Id id, const LockOptions& options)
    : repo_(repo), info_(std::move(info)), id_(id), options_(options) {
  refresher_ = std::thread([this] { RefreshLoop(); });
}

RepoLock::~RepoLock() { Release().IgnoreError(); }

Result<std::unique_ptr<RepoLock>> RepoLock::Acquire(Repository* repo, LockKind kind,
                                                    const LockOptions& options) {
  const bool exclusive = kind == LockKind::kExclusive;
  ASSIGN_OR_RETURN(auto existing, ListLocks(repo));
  for (const auto& e : existing) {
    if (LockConflicts(exclusive, e.info)) return ConflictStatus(e);
  }
  LockInfo mine = LockInfo::ForThisProcess(exclusive, Timestamp::Now());
  ASSIGN_OR_RETURN(Id id, repo->SaveUnpacked(FileType::kLock, mine.ToJson()));
  int64_t settle = options.settle_millis;
  if (settle < 0) settle = repo->backend()->Location().rfind("s3:", 0) == 0 ? 200 : 0;
  if (settle > 0) std::this_thread::sleep_for(std::chrono::milliseconds(settle));
  auto again = ListLocks(repo);
  if (!again.ok()) {
    repo->backend()->Remove(FileType::kLock, id.Hex()).IgnoreError();
    return again.status();
  }
  for (const auto& e : *again) {
    if (e.id == id) continue;
    if (LockConflicts(exclusive, e.info)) {
      repo->backend()->Remove(FileType::kLock, id.Hex()).IgnoreError();
      return ConflictStatus(e);
    }
  }
  return std::unique_ptr<RepoLock>(new RepoLock(repo, std::move(mine), id, options));
}

Status RepoLock::Refresh() {
  std::lock_guard<std::mutex> l(mu_);
  if (released_) return FailedPrecondition("lock already released");
  LockInfo fresh = info_;
  fresh.time = Timestamp::Now();
  ASSIGN_OR_RETURN(Id new_id, repo_->SaveUnpacked(FileType::kLock, fresh.ToJson()));
  Status st = repo_->backend()->Remove(FileType::kLock, id_.Hex());
  info_ = std::move(fresh);
  id_ = new_id;
  if (!st.ok() && st.code() != StatusCode::kNotFound) return st;
  return Status::Ok();
}

void RepoLock::RefreshLoop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    if (cv_.wait_for(l, std::chrono::seconds(options_.refresh_every_seconds),
                     [this] { return stop_; })) {
      break;
    }
    l.unlock();
    Refresh().IgnoreError();  // a failed refresh is retried at the next period
    l.lock();
  }
}

Status RepoLock::Release() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (released_) return Status::Ok();
    stop_ = true;
  }
  cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
  std::lock_guard<std::mutex> l(mu_);
  released_ = true;
  Status st = repo_->backend()->Remove(FileType::kLock, id_.Hex());
  if (!st.ok() && st.code() != StatusCode::kNotFound) return st;
  return Status::Ok();
}

}  // namespace clawback::store
