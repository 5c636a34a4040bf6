// SnapshotService: a repository kept open for many snapshots (`clawback serve`'s
// POST /v1/snapshots), so the scrypt key derivation (~0.5 s, as strong as restic's) is paid
// once at start instead of per snapshot.
//
//   ASSIGN_OR_RETURN(auto svc, SnapshotService::Open(url, password));   // KDF here
//   ASSIGN_OR_RETURN(ArchiveSummary s, svc->Take(options));             // per request
//
// Each Take: waits for any other Take of this service (one archiver at a time; it already
// uses every core), takes a shared repository lock (so prune, which needs an exclusive one,
// never runs underneath), brings the in-memory index up to date with what other processes
// wrote or pruned meanwhile (Repository::RefreshIndex), runs the Archiver (packs, index,
// then the snapshot: durable when it returns) and releases the lock. After a failed Take
// the unfinished writes are forgotten and the index reloaded, so a later Take never
// dedups against blobs that were never indexed.
//
// Thread-safety: Take may be called from many threads; calls are serialised.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "store/archiver/archiver.h"
#include "store/backend/backend.h"
#include "store/repository.h"

namespace clawback::store {

class SnapshotService {
 public:
  // Opens the backend and the repository (tries the key files: the KDF cost) and loads the
  // index. Errors as Repository::Open (WrongPassword, FailedPrecondition, …).
  static Result<std::unique_ptr<SnapshotService>> Open(const std::string& url,
                                                       const std::string& password,
                                                       const BackendOptions& backend_options = {});
  // Over an already opened repository (tests); takes ownership of both.
  SnapshotService(std::string url, BackendPtr backend, std::unique_ptr<Repository> repo);

  const std::string& url() const { return url_; }

  // Takes one snapshot; see the file comment. Locked when an exclusive lock is held.
  Result<ArchiveSummary> Take(ArchiveOptions options);

 private:
  std::string url_;
  BackendPtr backend_;
  std::mutex mu_;                     // serialises Take
  std::unique_ptr<Repository> repo_;  // GUARDED_BY(mu_) for writes
};

}  // namespace clawback::store
