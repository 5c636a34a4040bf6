#include "store/archiver/snapshot_service.h"

#include "store/lock/repo_lock.h"

namespace clawback::store {

Result<std::unique_ptr<SnapshotService>> SnapshotService::Open(const std::string& url,
                                                               const std::string& password,
                                                               const BackendOptions& backend_options) {
  ASSIGN_OR_RETURN(BackendPtr backend, OpenBackend(url, backend_options));
  ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, Repository::Open(backend.get(), password));
  RETURN_IF_ERROR(repo->LoadIndex().WithContext("load the index of " + url));
  return std::make_unique<SnapshotService>(url, std::move(backend), std::move(repo));
}

SnapshotService::SnapshotService(std::string url, BackendPtr backend, std::unique_ptr<Repository> repo)
    : url_(std::move(url)), backend_(std::move(backend)), repo_(std::move(repo)) {}

Result<ArchiveSummary> SnapshotService::Take(ArchiveOptions options) {
  std::lock_guard<std::mutex> serial(mu_);
  ASSIGN_OR_RETURN(auto lock, RepoLock::Acquire(repo_.get(), LockKind::kShared));
  Result<ArchiveSummary> result = [&]() -> Result<ArchiveSummary> {
    RETURN_IF_ERROR(repo_->RefreshIndex().WithContext("refresh the index of " + url_));
    Archiver archiver(repo_.get(), std::move(options));
    return archiver.Run();
  }();
  if (!result.ok()) {
    // Whatever the archiver left half-written must not be trusted by the next Take.
    Status reset = repo_->DiscardWritesAndReloadIndex();
    (void)lock->Release();
    if (!reset.ok()) return result.status().WithContext("(and reloading the index failed: " + reset.message() + ")");
    return result;
  }
  RETURN_IF_ERROR(lock->Release());
  return result;
}

}  // namespace clawback::store
