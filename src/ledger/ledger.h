// The ledger: the durable, append-only record of what every agent conversation did.
//
// Entities (docs/format/ledger-schema.md has the tables):
//   conversations  one per agent conversation; UUIDv7 id; external ids (OpenClaw
//                  sessionKey/sessionId/runId/traceId, …) to look it up by
//   events         every raw event, hash-chained: each row stores SHA-256 over its
//                  content and its predecessor's hash (VerifyChain checks it)
//   tool_calls, commands, file_changes, commits, deployments   typed projections
//   snapshots, backups, rollbacks                               filled by later subsystems
//   tokens         API token hashes and roles (never the tokens)
//   cursors, leases bookkeeping for consumers that follow the chain (telemetry exporters):
//                  outside the hash chain and the row seals
//
// Writes go through WriteBatch: everything in one batch commits in one transaction or
// not at all. ApplyGroup commits several batches in ONE database transaction (group
// commit) with a savepoint per batch, so one bad batch fails alone and the others land.
//
// Implementations: SQLite (WAL; the default) and PostgreSQL (libpq), both passing the
// conformance suite (ledger_conformance.h).
//
// Thread-safety: a Ledger is safe to call from many threads; implementations serialise
// writes internally and may serve reads concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/uuid.h"

namespace clawback::ledger {

using Json = nlohmann::json;

struct ExternalId {
  std::string kind;   // e.g. "openclaw.session_key", "openclaw.session_id", "openclaw.trace_id"
  std::string value;
  friend bool operator==(const ExternalId&, const ExternalId&) = default;
};

struct Conversation {
  Uuid id;
  std::string source;  // "openclaw", "cli", "exec", "api"
  std::string title;
  std::string agent;
  int64_t started_at_ms = 0;
  std::optional<int64_t> ended_at_ms;
  std::string status = "active";  // "active" until ended: "ended", "reset", "failed", …
  std::optional<Uuid> previous_id;  // the previous conversation of the same session key
  std::vector<ExternalId> external_ids;
  Json attributes = Json::object();
};

// JSON text as the ledger stores it: compact, keys sorted, invalid UTF-8 replaced by U+FFFD
// (never throws).
std::string DumpJson(const Json& j);
// Appends DumpJson(j) to *out (the same bytes, without nlohmann's per-character output
// adapter: most of the ingest's serialising is plain ASCII and valid UTF-8 text).
void AppendJson(const Json& j, std::string* out);
// Appends the JSON string for `s` (what AppendJson(Json(s), out) appends, without the copy).
void AppendJsonString(std::string_view s, std::string* out);

struct Event {
  int64_t seq = 0;  // assigned by the ledger on append; strictly increasing: the chain order
  Uuid id;          // UUIDv7, set by the writer
  std::optional<Uuid> conversation_id;
  std::string kind;  // "openclaw.before_tool_call", "command", "commit", "deployment", …
  int64_t time_ms = 0;
  std::string actor;  // "openclaw:main", "cli", "git-hook", a token's name
  Json attributes = Json::object();
  // Optional: `attributes` already serialised exactly as StoredAttributes() would (a writer
  // may prepare it off the ledger's write path). Used instead of serialising when not empty.
  std::string attributes_text;
  std::string hash;       // hex SHA-256, set by the ledger
  std::string prev_hash;  // hex SHA-256 of the previous row, "" for the first
};

struct ToolCall {
  Uuid conversation_id;
  std::string tool_call_id;  // the agent's id (OpenClaw toolCallId); unique per conversation
  std::string name;
  Json params = Json::object();
  std::string status = "started";  // "started", "ok", "error", "blocked"
  std::optional<int> exit_code;
  std::optional<int64_t> duration_ms;
  int64_t started_at_ms = 0;
  std::optional<int64_t> finished_at_ms;
  Json result;  // null until finished
  std::string error;
  std::string run_id;
  // params and result as stored text, when the caller serialised them already (the ingest
  // does, on the request's thread, so the single writer thread does not); when set, they
  // are stored instead of serialising `params` and `result`. Like an empty `params`
  // object, params_text "{}" means "not given": an update keeps the stored params.
  std::string params_text;
  std::string result_text;
};

struct Command {
  Uuid id;
  std::optional<Uuid> conversation_id;
  std::vector<std::string> argv;
  std::string cwd;
  std::optional<int> exit_code;
  int64_t started_at_ms = 0;
  std::optional<int64_t> duration_ms;
  std::string tool_call_id;  // when the command ran inside a tool call
};

struct FileChange {
  Uuid id;
  std::optional<Uuid> conversation_id;
  std::string path;
  std::string change;  // "created", "modified", "deleted", "renamed"
  int64_t time_ms = 0;
  std::string tool_call_id;
  Json attributes = Json::object();
};

struct Commit {
  std::string sha;  // unique
  std::optional<Uuid> conversation_id;
  std::string repo;  // path or remote URL
  std::string branch;
  std::string message;
  std::string author;
  std::vector<std::string> files;
  std::string trailer;  // value of Clawback-Conversation, as written
  int64_t time_ms = 0;
};

struct Deployment {
  Uuid id;
  std::optional<Uuid> conversation_id;
  std::string environment;
  std::string commit_sha;
  std::string status = "started";  // "started", "succeeded", "failed", "rolled_back"
  int64_t started_at_ms = 0;
  std::optional<int64_t> finished_at_ms;
  Json attributes = Json::object();
};

struct SnapshotRecord {
  std::string snapshot_id;  // repository snapshot id (hex); unique
  std::optional<Uuid> conversation_id;
  std::string repository;
  std::string reason;  // "pre", "post", "scheduled", "manual", "pre-rollback", …
  std::vector<std::string> paths;
  std::vector<std::string> tags;
  int64_t time_ms = 0;
  Json stats = Json::object();
};

struct BackupRecord {
  Uuid id;
  std::string job;  // "backup", "verify", "prune", "copy", "drill"
  std::string snapshot_id;
  std::string status = "running";  // "running", "succeeded", "failed"
  int64_t started_at_ms = 0;
  std::optional<int64_t> finished_at_ms;
  Json attributes = Json::object();
};

struct RollbackRecord {
  Uuid id;
  std::optional<Uuid> conversation_id;  // the rollback's own conversation, if any
  std::string target_kind;              // "conversation", "timestamp", "deployment"
  std::string target;
  std::string mode;                     // "exact", "selective"
  std::string status = "planned";
  std::string pre_snapshot_id;
  int64_t started_at_ms = 0;
  std::optional<int64_t> finished_at_ms;
  Json plan = Json::object();
};

enum class Role { kViewer = 0, kIngest = 1, kOperator = 2, kAdmin = 3 };
std::string_view RoleName(Role r);
std::optional<Role> ParseRole(std::string_view s);

struct Token {
  Uuid id;
  std::string name;
  Role role = Role::kViewer;
  std::string hash;  // hex SHA-256 of the token text
  int64_t created_at_ms = 0;
  bool revoked = false;
  // When a request last authenticated with it, to the minute (TouchToken); not part of
  // the Token write op, which never changes it.
  std::optional<int64_t> last_used_at_ms;
};

// One write. A batch is a list of these.
struct EndConversation {
  Uuid id;
  std::string status;
  int64_t ended_at_ms = 0;
};
struct AddExternalId {
  Uuid conversation_id;
  ExternalId external_id;
};
using WriteOp = std::variant<Conversation, EndConversation, AddExternalId, Event, ToolCall,
                             Command, FileChange, Commit, Deployment, SnapshotRecord,
                             BackupRecord, RollbackRecord, Token>;
// Upsert semantics: Conversation, ToolCall (key: conversation_id + tool_call_id; later
// fields overwrite, unset optionals keep the stored value), Deployment, BackupRecord,
// RollbackRecord (key: id), Commit (key: sha), SnapshotRecord (key: snapshot_id).
// Events are append-only.
// Precisely (docs/format/ledger-schema.md): in an upsert an unset optional, an empty string,
// a zero time or an empty JSON object keeps the stored value; a status equal to the type's
// initial value ("active", "started", "running", "planned") never overwrites a later one, so
// a late start cannot undo a finish. Command is an upsert by id too; FileChange is
// insert-only. Every conversation_id must name an existing conversation (else the batch
// fails with NotFound); a duplicate Event id fails with AlreadyExists.

struct WriteBatch {
  std::vector<WriteOp> ops;
  void Add(WriteOp op) { ops.push_back(std::move(op)); }
  bool empty() const { return ops.empty(); }
};

struct ConversationFilter {
  std::optional<int64_t> since_ms;  // started at or after
  std::optional<int64_t> until_ms;  // started before
  std::string status;               // exact, empty: any
  std::string query;                // substring of title, agent or an external id
  int limit = 100;
};

// The whole chain of one conversation, each list in time order.
struct Trace {
  Conversation conversation;
  std::vector<Event> events;
  std::vector<ToolCall> tool_calls;
  std::vector<Command> commands;
  std::vector<FileChange> file_changes;
  std::vector<Commit> commits;
  std::vector<Deployment> deployments;
  std::vector<SnapshotRecord> snapshots;
  std::vector<BackupRecord> backups;
  std::vector<RollbackRecord> rollbacks;
};

// Deployments across conversations, newest first (learn/ reads the history with this).
struct DeploymentFilter {
  std::string environment;          // exact, empty: any
  std::optional<int64_t> since_ms;  // started at or after
  std::optional<int64_t> until_ms;  // started before
  int limit = 1000;                 // at most 10000
};

struct VerifyReport {
  int64_t rows_checked = 0;             // events
  int64_t projection_rows_checked = 0;  // rows of the projection tables, against their seals
  bool ok = true;
  std::optional<int64_t> first_bad_seq;  // the first event whose hash does not match
  std::string table;                     // or the first projection row that does not match
  std::string row;                       //   its seal: its table and key ("id=…")
  std::string problem;                   // what did not match
};

struct LedgerStats {
  int64_t events = 0;
  int64_t conversations = 0;
  int64_t size_bytes = 0;  // database size on disk
};

// A consumer's hold on a named job (e.g. "telemetry.otlp") among several servers sharing one
// ledger: at most one holder at a time, until it releases it or its lease expires.
struct Lease {
  std::string name;
  std::string holder;          // who holds it now; "" when nobody does
  int64_t acquired_at_ms = 0;  // since when `holder` has held it without a break
  int64_t expires_at_ms = 0;   // it is free for anyone from this time on
};

// TryAcquireLease's answer.
struct LeaseResult {
  bool acquired = false;  // the caller holds the lease now (taken, taken over or renewed)
  Lease lease;            // the lease as it stands: the caller's when acquired, else whose
};

class Ledger {
 public:
  virtual ~Ledger() = default;

  // "sqlite" or "postgresql".
  virtual std::string_view backend() const = 0;

  // Creates or upgrades the schema to the latest version (versioned migrations).
  virtual Status Migrate() = 0;
  virtual Result<int> SchemaVersion() = 0;

  virtual Status Apply(const WriteBatch& batch) = 0;
  // One transaction for all; a savepoint per batch. Returns one Status per batch.
  virtual std::vector<Status> ApplyGroup(const std::vector<const WriteBatch*>& batches) = 0;

  virtual Result<Conversation> GetConversation(const Uuid& id) = 0;
  // The most recently started conversation carrying this external id, if any.
  virtual Result<std::optional<Conversation>> FindConversationByExternal(
      const std::string& kind, const std::string& value) = 0;
  virtual Result<std::vector<Conversation>> ListConversations(const ConversationFilter& f) = 0;
  virtual Result<Trace> GetTrace(const Uuid& id) = 0;

  virtual Result<Deployment> GetDeployment(const Uuid& id) = 0;
  virtual Result<std::vector<Deployment>> ListDeployments(const DeploymentFilter& f) = 0;
  // Rollbacks with this target ("deployment" + its id, "conversation" + its id, …), in start
  // order.
  virtual Result<std::vector<RollbackRecord>> ListRollbacksFor(const std::string& target_kind,
                                                               const std::string& target) = 0;
  virtual Result<std::optional<Commit>> GetCommit(const std::string& sha) = 0;

  virtual Result<std::optional<Token>> FindTokenByHash(const std::string& hash) = 0;
  virtual Result<int64_t> CountTokens() = 0;
  // Every token, revoked ones too, oldest first.
  virtual Result<std::vector<Token>> ListTokens() = 0;
  // Sets the token's last use to `at_ms` unless it was set less than a minute before that,
  // so a busy server writes at most once a minute per token. Outside the hash chain: it is
  // bookkeeping, not a record of what happened. Returns whether the row changed.
  virtual Result<bool> TouchToken(const Uuid& id, int64_t at_ms) = 0;

  // --- Following the chain (telemetry exporters; docs/format/ledger-schema.md, "Followers")
  //
  // Up to `limit` events with seq > `after_seq`, in seq order, each with everything its row
  // holds (attributes parsed; hash and prev_hash). Only committed events are seen, and a
  // writer's events become visible in seq order (one writer at a time holds the chain), so a
  // follower that continues after the last seq it saw misses none. `limit` above 10000 is
  // cut to 10000; 0 or less is InvalidArgument.
  virtual Result<std::vector<Event>> ReadEventsAfter(int64_t after_seq, int limit) = 0;

  // A named cursor: the seq a consumer has handled events up to. nullopt: never set.
  virtual Result<std::optional<int64_t>> GetCursor(const std::string& name) = 0;
  // Sets (creates or overwrites) cursor `name` to `seq`.
  virtual Status SetCursor(const std::string& name, int64_t seq) = 0;

  // Takes lease `name` for `holder` until now_ms + ttl_ms if it is free, expired
  // (expires_at_ms <= now_ms) or already `holder`'s (then this renews it). Atomic across
  // every process sharing the ledger: of several contenders exactly one acquires it. Times
  // are the callers' clocks, so servers sharing a ledger need clocks that agree to well
  // within ttl_ms. Empty name or holder, or ttl_ms <= 0: InvalidArgument.
  virtual Result<LeaseResult> TryAcquireLease(const std::string& name, const std::string& holder,
                                              int64_t ttl_ms, int64_t now_ms) = 0;
  // Gives lease `name` up if `holder` holds it; returns whether it did (false: someone
  // else holds it, or nobody).
  virtual Result<bool> ReleaseLease(const std::string& name, const std::string& holder) = 0;

  // Walks the whole event chain, then checks every projection row against its seal
  // (row_seal.h): a row edited outside clawback fails, named by table and key.
  virtual Result<VerifyReport> VerifyChain() = 0;
  virtual Result<LedgerStats> Stats() = 0;
};

// Opens the ledger at `url`: "sqlite:PATH" (or a bare path) or "postgresql://…"/
// "postgres://…". Does not migrate.
Result<std::unique_ptr<Ledger>> OpenLedger(const std::string& url, const Clock& clock = SystemClock());

// The canonical bytes an event's hash covers, and the hash itself (hex SHA-256 of
// prev_hash || canonical). Shared by both backends so their chains are identical.
std::string CanonicalEventBytes(const Event& e);
std::string ChainHash(const std::string& prev_hash_hex, const Event& e);

}  // namespace clawback::ledger
