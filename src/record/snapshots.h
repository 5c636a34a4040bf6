// POST /v1/snapshots: take a snapshot of files on the server's machine into the repository
// `clawback serve` keeps open (so the scrypt key derivation is paid once at start, not per
// snapshot). Needs an operator token: the server reads whatever paths the request names.
//
//   {"paths"? ["/abs/path", …]    default: the server's [repository] managed_paths
//    "tags"? ["K=V", …], "conversation"? | "conversation_id"? UUID, "reason"?, "host"?,
//    "excludes"? [pattern, …], "parent"? snapshot id prefix, "force"? bool,
//    "repository"? URL — refused unless it is the server's repository}
//   -> 201 {"snapshot_id", "short_id", "parent", "paths", "tags", "files_new", …,
//           "conversation_id"}     once packs, index and snapshot are durable.
//
// The snapshot itself runs on the HTTP thread (never on the ledger's writer thread); its
// ledger record (a SnapshotRecord and a `snapshot` event, as `clawback snapshot` writes
// without a server) is then committed by the writer. A conversation that the ledger does
// not know is refused before any file is read.
//
// record (and ingest) do not depend on the store: the server is handed a SnapshotFn (the
// service wiring puts store::SnapshotService in).
//
// Thread-safety: pure functions; the SnapshotFn must be safe to call from many threads.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/uuid.h"
#include "record/context.h"
#include "record/json_fields.h"
#include "record/requests.h"
#include "ledger/ledger.h"

namespace clawback::record {

struct SnapshotRequest {
  std::vector<std::string> paths;  // absolute; empty: the server's default paths
  std::vector<std::string> tags;
  std::optional<Uuid> conversation;
  std::string reason;
  std::string host;
  std::vector<std::string> excludes;
  std::string parent;
  bool force = false;
  std::string repository;  // when set, must be the server's repository
};

struct SnapshotOutcome {
  ledger::SnapshotRecord record;  // what the ledger keeps
  Json summary = Json::object();  // the answer's body
};

// Takes the snapshot; an error status is the request's answer.
using SnapshotFn = std::function<Result<SnapshotOutcome>(const SnapshotRequest&)>;

// Parses the body into a SnapshotRequest (InvalidArgument naming the field otherwise).
bool ParseSnapshotRequest(const Json& body, SnapshotRequest* out, FieldError* err);

// The job that records a snapshot someone took: its SnapshotRecord (against `conv`, reason
// "manual" when none) and a `snapshot` event by `actor`; answers with the summary. The CLI
// records its own snapshots with it too (record/direct.h ApplyJob).
PrepareFn RecordSnapshotJob(SnapshotOutcome outcome, std::optional<Uuid> conv, std::string actor);

// Validates, checks the conversation against `ledger`, takes the snapshot with `take` (on
// the calling thread) and returns the writer job that records it.
bool BuildSnapshotJob(const SnapshotFn& take, ledger::Ledger* ledger, const Json& body,
                      const RequestInfo& info, PrepareFn* out, FieldError* err);

}  // namespace clawback::record
