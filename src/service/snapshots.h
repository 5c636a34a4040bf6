// What `clawback snapshot` shares with `clawback serve`'s POST /v1/snapshots: turning the
// request (paths, tags, conversation, reason, …) into archiver options, the summary JSON
// both print, the ledger record both write, and the daemon's open repository.
//
// Thread-safety: the free functions are pure; the SnapshotFn from OpenServeSnapshots may
// be called from many threads (store::SnapshotService serialises the snapshots).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "common/uuid.h"
#include "record/snapshots.h"
#include "ledger/ledger.h"
#include "store/archiver/archiver.h"

namespace clawback::service {

// Tag values as restic takes them: InvalidArgument for empty or comma-containing tags
// (restic splits tags at commas).
Status ValidateTag(const std::string& tag);

// Validates tags, adds conversation=<id> and reason=<r> tags, compiles excludes.
// `paths` must already be non-empty.
Result<store::ArchiveOptions> MakeArchiveOptions(const record::SnapshotRequest& req);

// The `summary` document (`clawback --json snapshot`'s last line, the server's answer).
nlohmann::json ArchiveSummaryJson(const store::ArchiveSummary& s);

// The ledger's record of a snapshot.
ledger::SnapshotRecord SnapshotRecordFor(const std::string& repository_url,
                                         const store::ArchiveSummary& s,
                                         const std::optional<Uuid>& conversation,
                                         const std::string& reason);

// A local repository path made absolute (s3: URLs unchanged), so a client's --repo can be
// compared with the server's.
std::string CanonicalRepoUrl(const std::string& url);

// Where the daemon's repository is and how it opens: the URL and password (or why they
// could not be resolved), the password's source for messages, and the paths a request
// without paths snapshots ([repository] managed_paths).
struct SnapshotSource {
  Result<std::string> url = std::string();
  Result<std::string> password = std::string();
  std::string password_source;
  std::vector<std::string> managed_paths;
};

// For the daemon: starts opening the repository on a background thread — the scrypt key
// derivation runs once, there — and returns the SnapshotFn the first request waits on. A
// repository that cannot be opened makes each request fail with the reason (and is
// reported on stderr). The thread is joined when the last copy of the SnapshotFn goes: a
// server stopped while the key derivation runs waits for it (up to 5 s) rather than
// exiting under it.
record::SnapshotFn OpenSnapshots(SnapshotSource source);

}  // namespace clawback::service
