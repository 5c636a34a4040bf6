// What `clawback snapshot` shares with `clawback serve`'s POST /v1/snapshots: turning the
// request (paths, tags, conversation, reason, …) into archiver options, the summary JSON
// both print, the ledger record both write, and the serve side's open repository.
//
// Thread-safety: the free functions are pure; the SnapshotFn from OpenServeSnapshots may
// be called from many threads (store::SnapshotService serialises the snapshots).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/cli.h"
#include "common/config.h"
#include "common/status.h"
#include "common/uuid.h"
#include "record/snapshots.h"
#include "ledger/ledger.h"
#include "store/archiver/archiver.h"

namespace clawback::cli {

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

// For `clawback serve`: starts opening the data dir's repository (or $CLAWBACK_REPOSITORY
// with $CLAWBACK_PASSWORD_FILE/…) on a background thread — the scrypt key derivation runs
// once, there — and returns the SnapshotFn the first request waits on. A repository that
// cannot be opened makes each request fail with the reason (and is reported on stderr).
// The thread is joined when the last copy of the SnapshotFn goes: a server stopped while
// the key derivation runs waits for it (up to 5 s) rather than exiting under it.
record::SnapshotFn OpenServeSnapshots(const Cli& cli, const Config& config);

}  // namespace clawback::cli
