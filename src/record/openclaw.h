// The OpenClaw mapping: hook events (what OpenClaw passes to plugin hooks) to ledger writes.
//
// Input: POST /v1/openclaw/events carries one object or an array of
//   {"hook": NAME, "event": {...}, "ctx": {...}, "ts": RFC 3339 (optional)}
// exactly as a plugin's `api.on(hook, (event, ctx) => …)` receives them.
//
// Two pure steps, so the HTTP threads do the parsing and the single writer thread only
// resolves conversation state:
//   1. ParseOpenClawBody / ParseOpenClawItem (HTTP thread): validates types and extracts
//      the identifiers (sessionKey, sessionId, agentId, runId, toolCallId, trace.traceId).
//   2. MapOpenClawItem (writer thread): given the current state of the item's session
//      (SessionState, keyed by sessionKey), appends the WriteOps and advances the state.
//
// Conversation rules (docs: ../shared/docs/openclaw-e2e.md):
//   - A conversation opens at `session_start`, or at the first event of a session never
//     announced (webhook and cron turns send no session_start).
//   - `session_end` closes it (status "reset" when reason is "reset", else "ended").
//   - Any event for a closed session opens a new conversation whose previous_id is the
//     session key's previous conversation. A reset keeps the same sessionId, so state is
//     keyed by sessionKey and a session_start after a session_end always opens a new one.
//   - A session_start while a conversation is open adopts it when it was opened implicitly
//     for the same sessionId (the start arrived late), else ends it as "superseded".
//   - A session_end for a session never seen opens and closes a conversation so the event
//     is not orphaned; a repeated session_end attaches to the closed conversation.
//   - Items with neither sessionKey nor sessionId (e.g. a plugin's `register`) are stored
//     as events without a conversation.
// External ids recorded on the conversation: openclaw.session_key, openclaw.session_id,
// openclaw.run_id, openclaw.trace_id (ctx.trace.traceId), each value once.
// Tool calls: keyed by toolCallId; before_tool_call records name, params, start;
// after_tool_call records status (ok/error), exitCode (result.details.exitCode), durationMs
// and the result. An `exec` tool call also records a Command: argv = [params.command]
// (the shell line as the agent wrote it; an array is taken as argv), cwd
// (result.details.cwd, else params.workdir), exit code, duration (result.details.durationMs).
// Every item is also stored as an Event of kind "openclaw.<hook>".
// Validation: `hook` must be one of KnownOpenClawHooks() (else InvalidArgument naming them),
// and the hooks that belong to a session (HookNeedsSession) must name it: ctx.sessionKey or
// ctx.sessionId (event.* also counts); a tool hook must also name its tool (toolName).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/uuid.h"
#include "record/json_fields.h"
#include "ledger/ledger.h"

namespace clawback::record {

inline constexpr const char* kExtSessionKey = "openclaw.session_key";
inline constexpr const char* kExtSessionId = "openclaw.session_id";
inline constexpr const char* kExtRunId = "openclaw.run_id";
inline constexpr const char* kExtTraceId = "openclaw.trace_id";

// The plugin hooks of OpenClaw (2026.9.6: src/plugins/types.ts, PluginHookName) and the
// plugin's own `plugin.delivery_gap`, in the order OpenClaw's lifecycle meets them.
const std::vector<std::string>& KnownOpenClawHooks();
// session_start, session_end, before_tool_call, after_tool_call: meaningless without a session.
bool HookNeedsSession(const std::string& hook);

struct OpenClawItem {
  std::string hook;
  int64_t time_ms = 0;
  std::string session_key;  // the state key: ctx.sessionKey, else "id:" + sessionId, else ""
  std::string raw_session_key;  // ctx/event sessionKey as sent ("" when none)
  std::string session_id;
  std::string agent_id;
  std::string run_id;
  std::string trace_id;
  std::string tool_call_id;
  std::string tool_name;
  Json event = Json::object();
  Json ctx = Json::object();
  // The ledger event's attributes {"ctx","event","hook"}, serialised by the parser (on the
  // request's thread) so the writer thread does not; empty means "serialise later".
  std::string attributes_text;
  // A tool hook's event.params (when a non-empty object) and event.result (when present),
  // serialised by the parser for the same reason; empty when absent.
  std::string params_text;
  std::string result_text;
};


// Parses one item; `field` is its path in the body ("" or "[3]") for error messages. Both
// take their JSON by value: the request's handler moves its parsed body in, and the item's
// event and ctx trees move on into the OpenClawItem instead of being copied.
bool ParseOpenClawItem(Json item, const std::string& field, int64_t now_ms,
                       OpenClawItem* out, FieldError* err);
// Parses a body: one item object or a non-empty array of them (at most max_items).
bool ParseOpenClawBody(Json body, int64_t now_ms, size_t max_items,
                       std::vector<OpenClawItem>* out, FieldError* err);

// What the writer knows about one session key.
struct SessionState {
  Uuid conversation_id;
  bool open = false;
  bool announced = false;  // opened by session_start
  std::string session_id;
  std::set<std::pair<std::string, std::string>> external_ids;  // already recorded
  std::map<std::string, int64_t> tool_starts;  // toolCallId -> started_at_ms, until it ends
};

// Rebuilds a session's state from its latest stored conversation (after a restart or a
// cache eviction).
SessionState SessionStateFromConversation(const ledger::Conversation& c);

// Appends the ops for `item` to `batch` and advances `state` (nullopt: nothing known about
// the session yet). Returns the conversation the item was recorded against, if any.
// The item is consumed: its event and ctx move into the ledger event.
// `new_id` mints UUIDv7s (conversation, event and command ids).
std::optional<Uuid> MapOpenClawItem(OpenClawItem& item, std::optional<SessionState>* state,
                                    const std::function<Uuid()>& new_id,
                                    ledger::WriteBatch* batch);

}  // namespace clawback::record
