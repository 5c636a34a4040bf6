// The JSON documents of the ledger's entities, in ONE place: `clawback trace --json`,
// `clawback conversation show --json` and the server's GET /v1/conversations/{id}[/trace]
// all print exactly these, so a client can switch between the CLI and the API freely.
//
// Conventions of every document here:
//   - keys are snake_case; ids are lowercase canonical UUIDs; commit and snapshot ids hex;
//   - times are RFC 3339 UTC strings with milliseconds ("2026-11-27T02:12:01.646Z") under
//     keys ending in `_at` (`time` for point events); durations are integers in `*_ms`;
//   - optional values that are unset are JSON null (never missing), so the shape is stable.
//
// The trace document:
//   {"conversation": {...}, "tool_calls": [...], "commands": [...], "file_changes": [...],
//    "commits": [...], "deployments": [...], "snapshots": [...], "backups": [...],
//    "rollbacks": [...], "events": [...]}
// each list in time order, as Ledger::GetTrace returns them.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "ledger/ledger.h"

namespace clawback::ledger {

Json ConversationToJson(const Conversation& c);
Json EventToJson(const Event& e);
Json ToolCallToJson(const ToolCall& t);
Json CommandToJson(const Command& c);
Json FileChangeToJson(const FileChange& f);
Json CommitToJson(const Commit& c);
Json DeploymentToJson(const Deployment& d);
Json SnapshotToJson(const SnapshotRecord& s);
Json BackupToJson(const BackupRecord& b);
Json RollbackToJson(const RollbackRecord& r);
Json TraceToJson(const Trace& t);

// {"conversations": [...]} for a list of conversations (GET /v1/conversations).
Json ConversationListToJson(const std::vector<Conversation>& list);

}  // namespace clawback::ledger
