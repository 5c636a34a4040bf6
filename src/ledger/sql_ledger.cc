#include "ledger/sql_ledger.h"

#include <algorithm>
#include <charconv>
#include <unordered_map>
#include <utility>

#include "ledger/ledger_internal.h"
#include "ledger/row_seal.h"

namespace clawback::ledger {

// ---------------------------------------------------------------------------------------
// Row accessors

bool RowIsNull(const SqlRow& row, size_t i) {
  return i >= row.size() || std::holds_alternative<std::monostate>(row[i]);
}

std::optional<int64_t> RowOptInt(const SqlRow& row, size_t i) {
  if (RowIsNull(row, i)) return std::nullopt;
  if (const auto* v = std::get_if<int64_t>(&row[i])) return *v;
  const std::string& s = std::get<std::string>(row[i]);
  int64_t out = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc()) return std::nullopt;
  return out;
}

int64_t RowInt(const SqlRow& row, size_t i) { return RowOptInt(row, i).value_or(0); }

std::string RowStr(const SqlRow& row, size_t i) {
  if (RowIsNull(row, i)) return "";
  if (const auto* v = std::get_if<int64_t>(&row[i])) return std::to_string(*v);
  return std::get<std::string>(row[i]);
}

namespace {

// ---------------------------------------------------------------------------------------
// Parameter helpers

SqlValue Null() { return std::monostate{}; }
SqlValue Int(int64_t v) { return v; }
SqlValue Text(std::string s) { return s; }
SqlValue OptInt(const std::optional<int64_t>& v) { return v ? SqlValue(*v) : Null(); }
SqlValue OptInt(const std::optional<int>& v) { return v ? SqlValue(int64_t{*v}) : Null(); }
// An empty string or a zero time means "not given": NULL, so an upsert keeps the stored value.
SqlValue NonEmpty(const std::string& s) { return s.empty() ? Null() : SqlValue(s); }
SqlValue NonZero(int64_t v) { return v == 0 ? Null() : SqlValue(v); }
SqlValue IdText(const Uuid& id) { return id.ToString(); }
SqlValue OptId(const std::optional<Uuid>& id) { return id ? SqlValue(id->ToString()) : Null(); }
// An empty object (or null) means "not given".
SqlValue JsonGiven(const Json& j) {
  if (j.is_null() || (j.is_object() && j.empty())) return Null();
  return DumpJson(j);
}
SqlValue JsonText(const Json& j) { return DumpJson(j.is_null() ? Json::object() : j); }
SqlValue StringList(const std::vector<std::string>& v) { return DumpJson(Json(v)); }

Json ParseJsonOr(const std::string& text, Json fallback) {
  if (text.empty()) return fallback;
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? fallback : j;
}

std::vector<std::string> ParseStringList(const std::string& text) {
  std::vector<std::string> out;
  Json j = ParseJsonOr(text, Json::array());
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

Uuid RowUuid(const SqlRow& row, size_t i) { return Uuid::Parse(RowStr(row, i)).value_or(Uuid()); }
std::optional<Uuid> RowOptUuid(const SqlRow& row, size_t i) {
  if (RowIsNull(row, i)) return std::nullopt;
  return Uuid::Parse(RowStr(row, i));
}
std::optional<int> RowOptInt32(const SqlRow& row, size_t i) {
  auto v = RowOptInt(row, i);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

// Escapes LIKE wildcards for a pattern used with ESCAPE '\'.
std::string LikeContains(const std::string& s) {
  std::string out = "%";
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

// ---------------------------------------------------------------------------------------
// Columns and row decoders

constexpr const char* kConversationCols =
    "c.id, c.source, c.title, c.agent, c.started_at_ms, c.ended_at_ms, c.status, "
    "c.previous_id, c.attributes";
Conversation DecodeConversation(const SqlRow& r) {
  Conversation c;
  c.id = RowUuid(r, 0);
  c.source = RowStr(r, 1);
  c.title = RowStr(r, 2);
  c.agent = RowStr(r, 3);
  c.started_at_ms = RowInt(r, 4);
  c.ended_at_ms = RowOptInt(r, 5);
  c.status = RowStr(r, 6);
  c.previous_id = RowOptUuid(r, 7);
  c.attributes = ParseJsonOr(RowStr(r, 8), Json::object());
  return c;
}

constexpr const char* kEventCols =
    "seq, id, conversation_id, kind, time_ms, actor, attributes, prev_hash, hash";
Event DecodeEvent(const SqlRow& r) {
  Event e;
  e.seq = RowInt(r, 0);
  e.id = RowUuid(r, 1);
  e.conversation_id = RowOptUuid(r, 2);
  e.kind = RowStr(r, 3);
  e.time_ms = RowInt(r, 4);
  e.actor = RowStr(r, 5);
  e.attributes = ParseJsonOr(RowStr(r, 6), Json::object());
  e.prev_hash = RowStr(r, 7);
  e.hash = RowStr(r, 8);
  return e;
}

constexpr const char* kToolCallCols =
    "conversation_id, tool_call_id, name, params, status, exit_code, duration_ms, "
    "started_at_ms, finished_at_ms, result, error, run_id";
ToolCall DecodeToolCall(const SqlRow& r) {
  ToolCall t;
  t.conversation_id = RowUuid(r, 0);
  t.tool_call_id = RowStr(r, 1);
  t.name = RowStr(r, 2);
  t.params = ParseJsonOr(RowStr(r, 3), Json::object());
  t.status = RowStr(r, 4);
  t.exit_code = RowOptInt32(r, 5);
  t.duration_ms = RowOptInt(r, 6);
  t.started_at_ms = RowInt(r, 7);
  t.finished_at_ms = RowOptInt(r, 8);
  t.result = RowIsNull(r, 9) ? Json() : ParseJsonOr(RowStr(r, 9), Json());
  t.error = RowStr(r, 10);
  t.run_id = RowStr(r, 11);
  return t;
}

constexpr const char* kCommandCols =
    "id, conversation_id, argv, cwd, exit_code, started_at_ms, duration_ms, tool_call_id";
Command DecodeCommand(const SqlRow& r) {
  Command c;
  c.id = RowUuid(r, 0);
  c.conversation_id = RowOptUuid(r, 1);
  c.argv = ParseStringList(RowStr(r, 2));
  c.cwd = RowStr(r, 3);
  c.exit_code = RowOptInt32(r, 4);
  c.started_at_ms = RowInt(r, 5);
  c.duration_ms = RowOptInt(r, 6);
  c.tool_call_id = RowStr(r, 7);
  return c;
}

constexpr const char* kFileChangeCols =
    "id, conversation_id, path, change, time_ms, tool_call_id, attributes";
FileChange DecodeFileChange(const SqlRow& r) {
  FileChange f;
  f.id = RowUuid(r, 0);
  f.conversation_id = RowOptUuid(r, 1);
  f.path = RowStr(r, 2);
  f.change = RowStr(r, 3);
  f.time_ms = RowInt(r, 4);
  f.tool_call_id = RowStr(r, 5);
  f.attributes = ParseJsonOr(RowStr(r, 6), Json::object());
  return f;
}

constexpr const char* kCommitCols =
    "sha, conversation_id, repo, branch, message, author, files, trailer, time_ms";
Commit DecodeCommit(const SqlRow& r) {
  Commit c;
  c.sha = RowStr(r, 0);
  c.conversation_id = RowOptUuid(r, 1);
  c.repo = RowStr(r, 2);
  c.branch = RowStr(r, 3);
  c.message = RowStr(r, 4);
  c.author = RowStr(r, 5);
  c.files = ParseStringList(RowStr(r, 6));
  c.trailer = RowStr(r, 7);
  c.time_ms = RowInt(r, 8);
  return c;
}

constexpr const char* kDeploymentCols =
    "id, conversation_id, environment, commit_sha, status, started_at_ms, finished_at_ms, "
    "attributes";
Deployment DecodeDeployment(const SqlRow& r) {
  Deployment d;
  d.id = RowUuid(r, 0);
  d.conversation_id = RowOptUuid(r, 1);
  d.environment = RowStr(r, 2);
  d.commit_sha = RowStr(r, 3);
  d.status = RowStr(r, 4);
  d.started_at_ms = RowInt(r, 5);
  d.finished_at_ms = RowOptInt(r, 6);
  d.attributes = ParseJsonOr(RowStr(r, 7), Json::object());
  return d;
}

constexpr const char* kSnapshotCols =
    "snapshot_id, conversation_id, repository, reason, paths, tags, time_ms, stats";
SnapshotRecord DecodeSnapshot(const SqlRow& r) {
  SnapshotRecord s;
  s.snapshot_id = RowStr(r, 0);
  s.conversation_id = RowOptUuid(r, 1);
  s.repository = RowStr(r, 2);
  s.reason = RowStr(r, 3);
  s.paths = ParseStringList(RowStr(r, 4));
  s.tags = ParseStringList(RowStr(r, 5));
  s.time_ms = RowInt(r, 6);
  s.stats = ParseJsonOr(RowStr(r, 7), Json::object());
  return s;
}

constexpr const char* kBackupCols =
    "id, job, snapshot_id, status, started_at_ms, finished_at_ms, attributes";
BackupRecord DecodeBackup(const SqlRow& r) {
  BackupRecord b;
  b.id = RowUuid(r, 0);
  b.job = RowStr(r, 1);
  b.snapshot_id = RowStr(r, 2);
  b.status = RowStr(r, 3);
  b.started_at_ms = RowInt(r, 4);
  b.finished_at_ms = RowOptInt(r, 5);
  b.attributes = ParseJsonOr(RowStr(r, 6), Json::object());
  return b;
}

constexpr const char* kRollbackCols =
    "id, conversation_id, target_kind, target, mode, status, pre_snapshot_id, started_at_ms, "
    "finished_at_ms, plan";
RollbackRecord DecodeRollback(const SqlRow& r) {
  RollbackRecord b;
  b.id = RowUuid(r, 0);
  b.conversation_id = RowOptUuid(r, 1);
  b.target_kind = RowStr(r, 2);
  b.target = RowStr(r, 3);
  b.mode = RowStr(r, 4);
  b.status = RowStr(r, 5);
  b.pre_snapshot_id = RowStr(r, 6);
  b.started_at_ms = RowInt(r, 7);
  b.finished_at_ms = RowOptInt(r, 8);
  b.plan = ParseJsonOr(RowStr(r, 9), Json::object());
  return b;
}

constexpr const char* kTokenCols = "id, name, role, hash, created_at_ms, revoked, last_used_at_ms";
Token DecodeToken(const SqlRow& r) {
  Token t;
  t.id = RowUuid(r, 0);
  t.name = RowStr(r, 1);
  t.role = ParseRole(RowStr(r, 2)).value_or(Role::kViewer);
  t.hash = RowStr(r, 3);
  t.created_at_ms = RowInt(r, 4);
  t.revoked = RowInt(r, 5) != 0;
  t.last_used_at_ms = RowOptInt(r, 6);
  return t;
}

std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (auto p : parts) s.append(p);
  return s;
}

// ---------------------------------------------------------------------------------------
// Write statements. `$n` parameters; NULL means "keep what is stored" in the upserts.

const std::string kUpsertConversation =
    "INSERT INTO conversations (id, source, title, agent, started_at_ms, ended_at_ms, status, "
    "previous_id, attributes) VALUES ($1, COALESCE($2, ''), COALESCE($3, ''), COALESCE($4, ''), "
    "$5, $6, $7, $8, COALESCE($9, '{}')) "
    "ON CONFLICT (id) DO UPDATE SET source = COALESCE($2, conversations.source), "
    "title = COALESCE($3, conversations.title), agent = COALESCE($4, conversations.agent), "
    "started_at_ms = conversations.started_at_ms, "
    "ended_at_ms = COALESCE($6, conversations.ended_at_ms), "
    "status = CASE WHEN $7 = 'active' THEN conversations.status ELSE $7 END, "
    "previous_id = COALESCE($8, conversations.previous_id), "
    "attributes = COALESCE($9, conversations.attributes)";

const std::string kInsertExternalId =
    "INSERT INTO conversation_external_ids (conversation_id, kind, value) VALUES ($1, $2, $3) "
    "ON CONFLICT (kind, value, conversation_id) DO NOTHING";

const std::string kEndConversation =
    "UPDATE conversations SET status = $2, ended_at_ms = $3 WHERE id = $1";

const std::string kChainTail = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1";
const std::string kConversationExists = "SELECT 1 FROM conversations WHERE id = $1";

// Upserts of tool calls and commands, one or many rows per statement (UpsertSql): a value
// not given (NULL: empty strings, zero times, empty JSON bind as NULL) keeps what is stored.
// A multi-row statement reads "not given" back out of EXCLUDED: NULL for nullable columns,
// and the default ('', 0, '{}', '[]') that the VALUES put in its place otherwise. One
// statement must not touch a row twice (PostgreSQL refuses), so UpsertRun first merges a
// run's ops on one key into one row, the way the DO UPDATE would (MergeUpsertRow).
constexpr size_t kToolCallColumns = 12;
const char* const kUpsertToolCallsHead =
    "INSERT INTO tool_calls (conversation_id, tool_call_id, name, params, status, exit_code, "
    "duration_ms, started_at_ms, finished_at_ms, result, error, run_id) VALUES ";
const char* const kUpsertToolCallsRow =
    "($1, $2, COALESCE($3, ''), COALESCE($4, '{}'), $5, $6, $7, COALESCE($8, CAST(0 AS BIGINT)), "
    "$9, $10, COALESCE($11, ''), COALESCE($12, ''))";
const char* const kUpsertToolCallsTail =
    " ON CONFLICT (conversation_id, tool_call_id) DO UPDATE SET "
    "name = COALESCE(NULLIF(EXCLUDED.name, ''), tool_calls.name), "
    "params = CASE WHEN EXCLUDED.params = '{}' THEN tool_calls.params ELSE EXCLUDED.params END, "
    "status = CASE WHEN EXCLUDED.status = 'started' THEN tool_calls.status "
    "ELSE EXCLUDED.status END, "
    "exit_code = COALESCE(EXCLUDED.exit_code, tool_calls.exit_code), "
    "duration_ms = COALESCE(EXCLUDED.duration_ms, tool_calls.duration_ms), "
    "started_at_ms = COALESCE(NULLIF(EXCLUDED.started_at_ms, 0), tool_calls.started_at_ms), "
    "finished_at_ms = COALESCE(EXCLUDED.finished_at_ms, tool_calls.finished_at_ms), "
    "result = COALESCE(EXCLUDED.result, tool_calls.result), "
    "error = COALESCE(NULLIF(EXCLUDED.error, ''), tool_calls.error), "
    "run_id = COALESCE(NULLIF(EXCLUDED.run_id, ''), tool_calls.run_id)";

// Per column of the tool-call upsert's parameters: the text that counts as "not given"
// besides NULL (the DO UPDATE keeps the stored value for it), or nullptr when any non-NULL
// value is given. Must match the DO UPDATE above.
constexpr std::array<const char*, kToolCallColumns> kToolCallNotGiven = {
    nullptr /*conversation_id*/, nullptr /*tool_call_id*/, "" /*name*/, "{}" /*params*/,
    "started" /*status*/,        nullptr /*exit_code*/,    nullptr /*duration_ms*/,
    nullptr /*started_at_ms: 0 binds as NULL*/, nullptr /*finished_at_ms*/,
    nullptr /*result*/,          "" /*error*/,             "" /*run_id*/};

constexpr size_t kCommandColumns = 8;
const char* const kUpsertCommandsHead =
    "INSERT INTO commands (id, conversation_id, argv, cwd, exit_code, started_at_ms, "
    "duration_ms, tool_call_id) VALUES ";
const char* const kUpsertCommandsRow =
    "($1, $2, COALESCE($3, '[]'), COALESCE($4, ''), $5, COALESCE($6, CAST(0 AS BIGINT)), $7, "
    "COALESCE($8, ''))";
const char* const kUpsertCommandsTail =
    " ON CONFLICT (id) DO UPDATE SET "
    "conversation_id = COALESCE(EXCLUDED.conversation_id, commands.conversation_id), "
    "argv = CASE WHEN EXCLUDED.argv = '[]' THEN commands.argv ELSE EXCLUDED.argv END, "
    "cwd = COALESCE(NULLIF(EXCLUDED.cwd, ''), commands.cwd), "
    "exit_code = COALESCE(EXCLUDED.exit_code, commands.exit_code), "
    "started_at_ms = COALESCE(NULLIF(EXCLUDED.started_at_ms, 0), commands.started_at_ms), "
    "duration_ms = COALESCE(EXCLUDED.duration_ms, commands.duration_ms), "
    "tool_call_id = COALESCE(NULLIF(EXCLUDED.tool_call_id, ''), commands.tool_call_id)";
// As kToolCallNotGiven, for the command upsert.
constexpr std::array<const char*, kCommandColumns> kCommandNotGiven = {
    nullptr /*id*/,        nullptr /*conversation_id*/, "[]" /*argv*/,
    "" /*cwd*/,            nullptr /*exit_code*/,       nullptr /*started_at_ms: 0 is NULL*/,
    nullptr /*duration_ms*/, "" /*tool_call_id*/};

// Folds the next upsert of a row into `row` (both are one row's parameters) the way the
// DO UPDATE applies it: a given value replaces, a value not given keeps. Inserting the
// result, or applying it to a stored row, gives what applying the two upserts one after
// the other would: each column ends with its last given value, else its first value.
template <size_t N>
void MergeUpsertRow(const std::array<const char*, N>& not_given, std::vector<SqlValue>&& next,
                    SqlValue* row) {
  for (size_t c = 0; c < N; ++c) {
    SqlValue& v = next[c];
    if (std::holds_alternative<std::monostate>(v)) continue;
    if (const std::string* s = std::get_if<std::string>(&v); s && not_given[c] && *s == not_given[c])
      continue;
    row[c] = std::move(v);
  }
}

// head + `rows` copies of `row` (whose parameters are $1…$cols), renumbered row by row, + tail.
std::string MultiRowSql(std::string_view head, std::string_view row, size_t cols, size_t rows,
                        std::string_view tail) {
  std::string sql(head);
  for (size_t r = 0; r < rows; ++r) {
    if (r) sql += ", ";
    for (size_t i = 0; i < row.size(); ++i) {
      if (row[i] != '$') {
        sql += row[i];
        continue;
      }
      size_t n = 0;
      while (i + 1 < row.size() && row[i + 1] >= '0' && row[i + 1] <= '9') {
        n = n * 10 + static_cast<size_t>(row[++i] - '0');
      }
      sql += "$" + std::to_string(r * cols + n);
    }
  }
  sql += tail;
  return sql;
}

// The parameters of one row of the tool call / command upserts.
void AppendToolCallParams(const ToolCall& v, std::vector<SqlValue>* p) {
  p->push_back(IdText(v.conversation_id));
  p->push_back(Text(v.tool_call_id));
  p->push_back(NonEmpty(v.name));
  p->push_back(v.params_text.empty() || v.params_text == "{}" ? JsonGiven(v.params)
                                                               : Text(v.params_text));
  p->push_back(Text(v.status.empty() ? "started" : v.status));
  p->push_back(OptInt(v.exit_code));
  p->push_back(OptInt(v.duration_ms));
  p->push_back(NonZero(v.started_at_ms));
  p->push_back(OptInt(v.finished_at_ms));
  p->push_back(!v.result_text.empty() ? Text(v.result_text)
               : v.result.is_null()   ? Null()
                                      : SqlValue(DumpJson(v.result)));
  p->push_back(NonEmpty(v.error));
  p->push_back(NonEmpty(v.run_id));
}

void AppendCommandParams(const Command& v, std::vector<SqlValue>* p) {
  p->push_back(IdText(v.id));
  p->push_back(OptId(v.conversation_id));
  p->push_back(v.argv.empty() ? Null() : StringList(v.argv));
  p->push_back(NonEmpty(v.cwd));
  p->push_back(OptInt(v.exit_code));
  p->push_back(NonZero(v.started_at_ms));
  p->push_back(OptInt(v.duration_ms));
  p->push_back(NonEmpty(v.tool_call_id));
}

const std::string kInsertFileChange =
    "INSERT INTO file_changes (id, conversation_id, path, change, time_ms, tool_call_id, "
    "attributes) VALUES ($1, $2, $3, $4, $5, $6, $7)";

const std::string kUpsertCommit =
    "INSERT INTO commits (sha, conversation_id, repo, branch, message, author, files, trailer, "
    "time_ms) VALUES ($1, $2, COALESCE($3, ''), COALESCE($4, ''), COALESCE($5, ''), "
    "COALESCE($6, ''), COALESCE($7, '[]'), COALESCE($8, ''), COALESCE($9, CAST(0 AS BIGINT))) "
    "ON CONFLICT (sha) DO UPDATE SET conversation_id = COALESCE($2, commits.conversation_id), "
    "repo = COALESCE($3, commits.repo), branch = COALESCE($4, commits.branch), "
    "message = COALESCE($5, commits.message), author = COALESCE($6, commits.author), "
    "files = COALESCE($7, commits.files), trailer = COALESCE($8, commits.trailer), "
    "time_ms = COALESCE($9, commits.time_ms)";

const std::string kUpsertDeployment =
    "INSERT INTO deployments (id, conversation_id, environment, commit_sha, status, "
    "started_at_ms, finished_at_ms, attributes) VALUES ($1, $2, COALESCE($3, ''), "
    "COALESCE($4, ''), $5, COALESCE($6, CAST(0 AS BIGINT)), $7, COALESCE($8, '{}')) "
    "ON CONFLICT (id) DO UPDATE SET "
    "conversation_id = COALESCE($2, deployments.conversation_id), "
    "environment = COALESCE($3, deployments.environment), "
    "commit_sha = COALESCE($4, deployments.commit_sha), "
    "status = CASE WHEN $5 = 'started' THEN deployments.status ELSE $5 END, "
    "started_at_ms = COALESCE($6, deployments.started_at_ms), "
    "finished_at_ms = COALESCE($7, deployments.finished_at_ms), "
    "attributes = COALESCE($8, deployments.attributes)";

const std::string kUpsertSnapshot =
    "INSERT INTO snapshots (snapshot_id, conversation_id, repository, reason, paths, tags, "
    "time_ms, stats) VALUES ($1, $2, COALESCE($3, ''), COALESCE($4, ''), COALESCE($5, '[]'), "
    "COALESCE($6, '[]'), COALESCE($7, CAST(0 AS BIGINT)), COALESCE($8, '{}')) "
    "ON CONFLICT (snapshot_id) DO UPDATE SET "
    "conversation_id = COALESCE($2, snapshots.conversation_id), "
    "repository = COALESCE($3, snapshots.repository), reason = COALESCE($4, snapshots.reason), "
    "paths = COALESCE($5, snapshots.paths), tags = COALESCE($6, snapshots.tags), "
    "time_ms = COALESCE($7, snapshots.time_ms), stats = COALESCE($8, snapshots.stats)";

const std::string kUpsertBackup =
    "INSERT INTO backups (id, job, snapshot_id, status, started_at_ms, finished_at_ms, "
    "attributes) VALUES ($1, COALESCE($2, ''), COALESCE($3, ''), $4, "
    "COALESCE($5, CAST(0 AS BIGINT)), $6, COALESCE($7, '{}')) "
    "ON CONFLICT (id) DO UPDATE SET job = COALESCE($2, backups.job), "
    "snapshot_id = COALESCE($3, backups.snapshot_id), "
    "status = CASE WHEN $4 = 'running' THEN backups.status ELSE $4 END, "
    "started_at_ms = COALESCE($5, backups.started_at_ms), "
    "finished_at_ms = COALESCE($6, backups.finished_at_ms), "
    "attributes = COALESCE($7, backups.attributes)";

const std::string kUpsertRollback =
    "INSERT INTO rollbacks (id, conversation_id, target_kind, target, mode, status, "
    "pre_snapshot_id, started_at_ms, finished_at_ms, plan) VALUES ($1, $2, COALESCE($3, ''), "
    "COALESCE($4, ''), COALESCE($5, ''), $6, COALESCE($7, ''), "
    "COALESCE($8, CAST(0 AS BIGINT)), $9, COALESCE($10, '{}')) "
    "ON CONFLICT (id) DO UPDATE SET "
    "conversation_id = COALESCE($2, rollbacks.conversation_id), "
    "target_kind = COALESCE($3, rollbacks.target_kind), "
    "target = COALESCE($4, rollbacks.target), mode = COALESCE($5, rollbacks.mode), "
    "status = CASE WHEN $6 = 'planned' THEN rollbacks.status ELSE $6 END, "
    "pre_snapshot_id = COALESCE($7, rollbacks.pre_snapshot_id), "
    "started_at_ms = COALESCE($8, rollbacks.started_at_ms), "
    "finished_at_ms = COALESCE($9, rollbacks.finished_at_ms), "
    "plan = COALESCE($10, rollbacks.plan)";

const std::string kUpsertToken =
    "INSERT INTO tokens (id, name, role, hash, created_at_ms, revoked) "
    "VALUES ($1, $2, $3, $4, $5, $6) "
    "ON CONFLICT (id) DO UPDATE SET name = $2, role = $3, hash = $4, revoked = $6";

// Followers (schema version 5): cursors and leases, bookkeeping outside the chain and seals.
const std::string kEventsAfterSql =
    Cat({"SELECT ", kEventCols, " FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"});
const std::string kGetCursor = "SELECT seq FROM cursors WHERE name = $1";
const std::string kSetCursor =
    "INSERT INTO cursors (name, seq, updated_at_ms) VALUES ($1, $2, $3) "
    "ON CONFLICT (name) DO UPDATE SET seq = EXCLUDED.seq, updated_at_ms = EXCLUDED.updated_at_ms";
// $1 name, $2 holder, $3 now, $4 expiry. Written only when free (no row), expired or the
// holder's own (a renewal, which keeps acquired_at_ms unless the lease had lapsed).
const std::string kAcquireLease =
    "INSERT INTO leases (name, holder, acquired_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, "
    "acquired_at_ms = CASE WHEN leases.holder = EXCLUDED.holder AND "
    "leases.expires_at_ms > EXCLUDED.acquired_at_ms THEN leases.acquired_at_ms "
    "ELSE EXCLUDED.acquired_at_ms END, "
    "expires_at_ms = EXCLUDED.expires_at_ms "
    "WHERE leases.holder = EXCLUDED.holder OR leases.expires_at_ms <= EXCLUDED.acquired_at_ms";
const std::string kGetLease =
    "SELECT holder, acquired_at_ms, expires_at_ms FROM leases WHERE name = $1";
const std::string kReleaseLease = "DELETE FROM leases WHERE name = $1 AND holder = $2";

std::string Describe(std::string_view what, const std::string& key) {
  return Cat({what, " ", key});
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Construction and connections

SqlLedger::SqlLedger(Dialect dialect, SqlConnector connect, const Clock& clock)
    : dialect_(std::move(dialect)), connect_(std::move(connect)), clock_(clock), ids_(clock) {}

SqlLedger::~SqlLedger() = default;

Status SqlLedger::Open() {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (writer_) return Status::Ok();
  ASSIGN_OR_RETURN(writer_, connect_());
  return Status::Ok();
}

Result<std::unique_ptr<SqlConnection>> SqlLedger::AcquireReader() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!readers_.empty()) {
      auto c = std::move(readers_.back());
      readers_.pop_back();
      return c;
    }
  }
  return connect_();
}

void SqlLedger::ReleaseReader(std::unique_ptr<SqlConnection> conn) {
  constexpr size_t kMaxIdleReaders = 8;
  std::lock_guard<std::mutex> lock(pool_mu_);
  if (readers_.size() < kMaxIdleReaders) readers_.push_back(std::move(conn));
}

template <typename Fn>
auto SqlLedger::WithReader(Fn&& fn) -> decltype(fn(std::declval<SqlConnection&>())) {
  auto acquired = AcquireReader();
  if (!acquired.ok()) return acquired.status();
  std::unique_ptr<SqlConnection> conn = std::move(acquired).value();
  if (Status st = conn->Exec(dialect_.begin_read); !st.ok()) {
    // A broken connection is not returned to the pool.
    return st;
  }
  auto result = fn(*conn);
  Status end = conn->Exec("COMMIT");
  if (end.ok()) ReleaseReader(std::move(conn));
  return result;
}

// ---------------------------------------------------------------------------------------
// Migrations

Result<int> SqlLedger::SchemaVersionOn(SqlConnection& conn) {
  std::vector<SqlRow> rows;
  RETURN_IF_ERROR(conn.Query(dialect_.table_exists, {Text("schema_migrations")}, &rows));
  if (rows.empty()) return 0;
  rows.clear();
  RETURN_IF_ERROR(conn.Query("SELECT MAX(version) FROM schema_migrations", {}, &rows));
  if (rows.empty()) return 0;
  return static_cast<int>(RowInt(rows[0], 0));
}

Result<int> SqlLedger::SchemaVersion() {
  return WithReader([&](SqlConnection& c) { return SchemaVersionOn(c); });
}

Status SqlLedger::Migrate() {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (!writer_) {
    ASSIGN_OR_RETURN(writer_, connect_());
  }
  SqlConnection& c = *writer_;
  RETURN_IF_ERROR(c.Exec(dialect_.begin_write).WithContext("ledger migrate"));
  auto run = [&]() -> Status {
    if (!dialect_.lock_migrations.empty()) RETURN_IF_ERROR(c.Exec(dialect_.lock_migrations));
    RETURN_IF_ERROR(c.Exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
        "name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)"));
    ASSIGN_OR_RETURN(int current, SchemaVersionOn(c));
    const auto& migrations = *dialect_.migrations;
    int latest = migrations.empty() ? 0 : migrations.back().version;
    if (current > latest) {
      return FailedPrecondition("ledger schema version " + std::to_string(current) +
                                " is newer than this clawback understands (" +
                                std::to_string(latest) + "); upgrade clawback");
    }
    for (const Migration& m : migrations) {
      if (m.version <= current) continue;
      RETURN_IF_ERROR(c.Exec(m.sql).WithContext("migration " + std::to_string(m.version) +
                                                " (" + m.name + ")"));
      RETURN_IF_ERROR(c.Query(
          "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)",
          {Int(m.version), Text(m.name), Int(clock_.NowUnixMillis())}, nullptr));
    }
    if (current < kRowSealVersion && latest >= kRowSealVersion) {
      // Rows written before seals existed are sealed now, with the chain as it stands.
      ChainTail tail;
      RETURN_IF_ERROR(LoadChainTail(c, &tail));
      RETURN_IF_ERROR(RowSealer::SealAll(c, tail.seq, tail.hash).WithContext("migration " + std::to_string(kRowSealVersion)));
    }
    return Status::Ok();
  };
  Status st = run();
  if (!st.ok()) {
    c.Exec("ROLLBACK").IgnoreError();
    return st.WithContext("ledger migrate");
  }
  RETURN_IF_ERROR(c.Exec("COMMIT").WithContext("ledger migrate"));
  c.ResetStatements();
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Writes

Status SqlLedger::Apply(const WriteBatch& batch) {
  std::vector<const WriteBatch*> one = {&batch};
  return ApplyGroup(one)[0];
}

std::vector<Status> SqlLedger::ApplyGroup(const std::vector<const WriteBatch*>& batches) {
  std::vector<Status> results(batches.size());
  if (batches.empty()) return results;
  std::lock_guard<std::mutex> lock(write_mu_);
  auto fail_all = [&](const Status& st) {
    for (auto& r : results) r = st;
    return results;
  };
  if (!writer_) {
    auto opened = connect_();
    if (!opened.ok()) return fail_all(opened.status());
    writer_ = std::move(opened).value();
  }
  SqlConnection& c = *writer_;
  Status st = ApplyGroupWhole(c, batches);
  if (st.ok()) return results;
  ++group_fallbacks_;
  // A lost connection is not retried (the COMMIT may have landed), nor is a ledger another
  // process keeps locked (the retry would wait as long again); any other error is some
  // batch's, or the whole transaction's: nothing landed, so run the group again the slow
  // way, where each batch reports its own error and a bad one sinks no other.
  if (st.code() == StatusCode::kUnavailable || st.code() == StatusCode::kLocked)
    return fail_all(st.WithContext("ledger write"));
  return ApplyGroupBySavepoint(c, batches);
}

Status SqlLedger::ApplyGroupWhole(SqlConnection& c, const std::vector<const WriteBatch*>& batches) {
  txn_conversations_.clear();
  sealer_.Clear();
  const bool pipelined = c.SupportsPipeline();
  if (pipelined) RETURN_IF_ERROR(c.BeginPipeline());
  Status st = [&]() -> Status {
    RETURN_IF_ERROR(c.Exec(dialect_.begin_write));
    if (!dialect_.lock_chain.empty()) RETURN_IF_ERROR(c.Exec(dialect_.lock_chain));
    ChainTail tail;  // read in this transaction, under the chain lock
    for (const WriteBatch* batch : batches) {
      if (!batch->empty()) RETURN_IF_ERROR(ApplyBatch(c, *batch, &tail, /*multi_row=*/true));
    }
    RETURN_IF_ERROR(SealRows(c, &tail));
    return c.Exec("COMMIT");
  }();
  if (pipelined) {
    // An error queued before the one that stopped us (if any) surfaces here.
    Status end = c.EndPipeline();
    if (st.ok()) st = end;
  }
  if (!st.ok()) c.Exec("ROLLBACK").IgnoreError();
  EndWriteTransaction(st.ok());
  return st;
}

std::vector<Status> SqlLedger::ApplyGroupBySavepoint(
    SqlConnection& c, const std::vector<const WriteBatch*>& batches) {
  std::vector<Status> results(batches.size());
  txn_conversations_.clear();
  sealer_.Clear();
  auto fail_all = [&](const Status& st) {
    for (auto& r : results) r = st;
    return results;
  };
  if (Status st = c.Exec(dialect_.begin_write); !st.ok()) {
    c.Exec("ROLLBACK").IgnoreError();
    return fail_all(st.WithContext("ledger write"));
  }
  // The chain lock is taken first, before any row lock, so writers in several processes
  // queue on it instead of deadlocking; it is outside every savepoint, so a rolled-back
  // batch does not release it.
  if (!dialect_.lock_chain.empty()) {
    if (Status st = c.Exec(dialect_.lock_chain); !st.ok()) {
      c.Exec("ROLLBACK").IgnoreError();
      return fail_all(st.WithContext("ledger write"));
    }
  }
  ChainTail tail;
  Status broken;  // set when the transaction itself can no longer commit
  for (size_t i = 0; i < batches.size(); ++i) {
    if (!broken.ok()) {
      results[i] = broken;
      continue;
    }
    const WriteBatch& batch = *batches[i];
    if (batch.empty()) continue;
    if (Status st = c.Exec("SAVEPOINT batch"); !st.ok()) {
      broken = st;
      results[i] = st;
      continue;
    }
    ChainTail saved = tail;
    Status st = ApplyBatch(c, batch, &tail, /*multi_row=*/false);
    if (st.ok()) {
      st = c.Exec("RELEASE SAVEPOINT batch");
      if (!st.ok()) broken = st;
    } else {
      tail = saved;
      // Conversations this batch created are gone again; forgetting the others too only
      // costs a lookup each.
      txn_conversations_.clear();
      Status undo = c.Exec("ROLLBACK TO SAVEPOINT batch");
      if (undo.ok()) undo = c.Exec("RELEASE SAVEPOINT batch");
      if (!undo.ok()) broken = undo;
    }
    results[i] = st;
  }
  if (broken.ok()) {
    // A rolled-back batch's rows are sealed as they stand after the rollback (unchanged, or
    // not there: nothing to seal).
    if (Status st = SealRows(c, &tail); !st.ok()) broken = st.WithContext("ledger commit");
  }
  if (broken.ok()) {
    if (Status st = c.Exec("COMMIT"); !st.ok()) broken = st.WithContext("ledger commit");
  }
  EndWriteTransaction(broken.ok());
  if (!broken.ok()) {
    c.Exec("ROLLBACK").IgnoreError();
    // Nothing of this group landed: every batch reports the failure.
    for (auto& r : results) {
      if (r.ok()) r = broken;
    }
  }
  return results;
}

Status SqlLedger::ApplyBatch(SqlConnection& conn, const WriteBatch& batch, ChainTail* tail,
                             bool multi_row) {
  // Every other op first, in order; then all the batch's events, in order, as multi-row
  // INSERTs. Events reference only conversations (which the other ops create, so they must
  // come first) and the chain orders events among themselves only, so this is the same
  // ledger as applying op by op — with one statement per 64 events instead of one per
  // event (an OpenClaw batch interleaves events with tool calls and commands, which broke
  // every run of events into runs of one: a round trip each on PostgreSQL).
  //
  // With `multi_row`, each run of tool calls and commands (not broken by another kind of op)
  // goes in as multi-row upserts too (UpsertRun).
  std::vector<const Event*> events;
  std::vector<size_t> event_ops;  // each event's op index, for error messages
  std::vector<size_t> run;        // tool calls and commands not written yet (multi_row)
  for (size_t i = 0; i < batch.ops.size(); ++i) {
    const WriteOp& op = batch.ops[i];
    if (const Event* e = std::get_if<Event>(&op)) {
      events.push_back(e);
      event_ops.push_back(i);
      continue;
    }
    if (multi_row &&
        (std::holds_alternative<ToolCall>(op) || std::holds_alternative<Command>(op))) {
      run.push_back(i);
      continue;
    }
    if (!run.empty()) RETURN_IF_ERROR(UpsertRun(conn, batch, &run));
    Status st = ApplyOp(conn, op, tail);
    if (!st.ok()) return st.WithContext("op " + std::to_string(i));
  }
  if (!run.empty()) RETURN_IF_ERROR(UpsertRun(conn, batch, &run));
  if (!events.empty()) RETURN_IF_ERROR(AppendEvents(conn, events, event_ops, tail));
  return Status::Ok();
}

Status SqlLedger::UpsertRun(SqlConnection& conn, const WriteBatch& batch,
                            std::vector<size_t>* run) {
  // Ops on one key are merged into one row (MergeUpsertRow), so a statement touches each
  // row once and a tool call's start and finish in one request cost one row write. Rows of
  // different keys commute. Tool calls and commands are separate tables with no key between
  // them, so they need no order between each other. Every op's conversation is checked,
  // not only the merged row's, as applying the ops one by one would.
  std::unordered_map<std::string, size_t> row_of;  // key -> index into tool_rows/command_rows
  std::vector<std::vector<SqlValue>> tool_rows, command_rows;
  std::vector<SqlValue> params;
  for (size_t i : *run) {
    const WriteOp& op = batch.ops[i];
    params.clear();
    std::vector<std::vector<SqlValue>>* rows;
    std::string key;
    if (const ToolCall* t = std::get_if<ToolCall>(&op)) {
      if (t->tool_call_id.empty()) {
        return InvalidArgument("tool call: tool_call_id is empty")
            .WithContext("op " + std::to_string(i));
      }
      RETURN_IF_ERROR(RequireConversation(conn, t->conversation_id, [&] {
        return "op " + std::to_string(i) + ": tool call " + t->tool_call_id;
      }));
      AppendToolCallParams(*t, &params);
      sealer_.Touch(SealedTable::kToolCalls, {params[0], params[1]});
      rows = &tool_rows;
      key = Cat({"t", t->conversation_id.ToHex(), "/", t->tool_call_id});
    } else {
      const Command& c = std::get<Command>(op);
      if (c.id.is_nil())
        return InvalidArgument("command: id is nil").WithContext("op " + std::to_string(i));
      if (c.conversation_id) {
        RETURN_IF_ERROR(RequireConversation(conn, *c.conversation_id, [&] {
          return "op " + std::to_string(i) + ": " + Describe("command", c.id.ToString());
        }));
      }
      AppendCommandParams(c, &params);
      sealer_.Touch(SealedTable::kCommands, {params[0]});
      rows = &command_rows;
      key = Cat({"c", c.id.ToHex()});
    }
    auto [it, inserted] = row_of.try_emplace(std::move(key), rows->size());
    if (inserted) {
      rows->push_back(std::move(params));
    } else if (rows == &tool_rows) {
      MergeUpsertRow(kToolCallNotGiven, std::move(params), (*rows)[it->second].data());
    } else {
      MergeUpsertRow(kCommandNotGiven, std::move(params), (*rows)[it->second].data());
    }
  }
  run->clear();
  // In statements of up to kMaxUpsertRows rows.
  auto upsert = [&](std::vector<std::vector<SqlValue>>& rows, auto sql_for,
                    const char* what) -> Status {
    for (size_t begin = 0; begin < rows.size(); begin += kMaxUpsertRows) {
      size_t n = std::min(kMaxUpsertRows, rows.size() - begin);
      params.clear();
      for (size_t k = begin; k < begin + n; ++k) {
        for (SqlValue& v : rows[k]) params.push_back(std::move(v));
      }
      RETURN_IF_ERROR(conn.Query(sql_for(n), params, nullptr).WithContext(what));
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(upsert(tool_rows,
                         [this](size_t n) -> const std::string& { return UpsertToolCallsSql(n); },
                         "tool calls"));
  return upsert(command_rows,
                [this](size_t n) -> const std::string& { return UpsertCommandsSql(n); },
                "commands");
}

const std::string& SqlLedger::UpsertToolCallsSql(size_t rows) {
  std::string& sql = upsert_tool_calls_sql_[rows];
  if (sql.empty()) {
    sql = MultiRowSql(kUpsertToolCallsHead, kUpsertToolCallsRow, kToolCallColumns, rows,
                      kUpsertToolCallsTail);
  }
  return sql;
}

const std::string& SqlLedger::UpsertCommandsSql(size_t rows) {
  std::string& sql = upsert_commands_sql_[rows];
  if (sql.empty()) {
    sql = MultiRowSql(kUpsertCommandsHead, kUpsertCommandsRow, kCommandColumns, rows,
                      kUpsertCommandsTail);
  }
  return sql;
}

const std::string& SqlLedger::InsertEventsSql(size_t rows) {
  std::string& sql = insert_events_sql_[rows];
  if (sql.empty()) {
    sql = "INSERT INTO events (seq, id, conversation_id, kind, time_ms, actor, attributes, "
          "prev_hash, hash) VALUES ";
    for (size_t r = 0; r < rows; ++r) {
      sql += r == 0 ? "(" : ", (";
      for (size_t c = 0; c < kEventColumns; ++c) {
        if (c) sql += ", ";
        sql += "$" + std::to_string(r * kEventColumns + c + 1);
      }
      sql += ")";
    }
  }
  return sql;
}

Status SqlLedger::AppendEvents(SqlConnection& c, const std::vector<const Event*>& run,
                               const std::vector<size_t>& op_index, ChainTail* tail) {
  for (size_t k = 0; k < run.size(); ++k) {
    if (run[k]->kind.empty()) {
      return InvalidArgument("event: kind is empty").WithContext("op " + std::to_string(op_index[k]));
    }
    if (run[k]->conversation_id) {
      RETURN_IF_ERROR(RequireConversation(c, *run[k]->conversation_id, [&] {
        return "op " + std::to_string(op_index[k]) + ": event " + run[k]->id.ToString();
      }));
    }
  }
  RETURN_IF_ERROR(LoadChainTail(c, tail));  // the write transaction holds the chain lock
  int64_t seq = tail->seq;
  std::string prev = tail->hash;
  std::vector<SqlValue> params;
  for (size_t begin = 0; begin < run.size(); begin += kMaxEventRows) {
    size_t n = std::min(kMaxEventRows, run.size() - begin);
    params.clear();
    params.reserve(n * kEventColumns);
    for (size_t k = begin; k < begin + n; ++k) {
      const Event& in = *run[k];
      // The row's header fields; the attributes travel as their stored text only (no copy
      // of the JSON tree on the hot path).
      Event e;
      e.seq = ++seq;
      e.id = in.id.is_nil() ? ids_.Next() : in.id;
      e.conversation_id = in.conversation_id;
      e.kind = in.kind;
      e.time_ms = in.time_ms;
      e.actor = in.actor;
      std::string attributes =
          in.attributes_text.empty() ? StoredAttributes(in.attributes) : in.attributes_text;
      std::string hash = ChainHashWithAttributes(prev, e, attributes);
      params.push_back(Int(e.seq));
      params.push_back(IdText(e.id));
      params.push_back(OptId(e.conversation_id));
      params.push_back(Text(std::move(e.kind)));
      params.push_back(Int(e.time_ms));
      params.push_back(Text(std::move(e.actor)));
      params.push_back(Text(std::move(attributes)));
      params.push_back(Text(std::move(prev)));
      params.push_back(Text(hash));
      prev = std::move(hash);
    }
    Status st = c.Query(InsertEventsSql(n), params, nullptr);
    if (!st.ok()) {
      std::string what = n == 1 ? "op " + std::to_string(op_index[begin]) + ": event " +
                                      run[begin]->id.ToString()
                                : "ops " + std::to_string(op_index[begin]) + "-" +
                                      std::to_string(op_index[begin + n - 1]) + ": events";
      if (st.code() == StatusCode::kNotFound) {
        std::string convs;
        for (size_t k = begin; k < begin + n; ++k) {
          if (!run[k]->conversation_id) continue;
          std::string id = run[k]->conversation_id->ToString();
          if (convs.find(id) == std::string::npos) convs += (convs.empty() ? "" : ", ") + id;
        }
        return NotFound(what + ": conversation " + convs + " does not exist" +
                        (n == 1 ? "" : " (one of these)"));
      }
      return st.WithContext(what);
    }
  }
  tail->seq = seq;
  tail->hash = std::move(prev);
  return Status::Ok();
}

Status SqlLedger::LookUpConversation(SqlConnection& c, const Uuid& id, const std::string& what) {
  std::vector<SqlRow> rows;
  RETURN_IF_ERROR(c.Query(kConversationExists, {IdText(id)}, &rows).WithContext(what));
  if (rows.empty()) return NotFound(what + ": conversation " + id.ToString() + " does not exist");
  txn_conversations_.insert(id);
  return Status::Ok();
}

void SqlLedger::EndWriteTransaction(bool committed) {
  if (committed) {
    if (known_conversations_.size() + txn_conversations_.size() > kMaxKnownConversations) {
      known_conversations_.clear();  // the next writes look their conversations up again
    }
    known_conversations_.merge(txn_conversations_);
  }
  txn_conversations_.clear();
}

Status SqlLedger::LoadChainTail(SqlConnection& c, ChainTail* tail) {
  if (tail->loaded) return Status::Ok();
  std::vector<SqlRow> rows;
  RETURN_IF_ERROR(c.Query(kChainTail, {}, &rows));
  tail->loaded = true;
  tail->seq = rows.empty() ? 0 : RowInt(rows[0], 0);
  tail->hash = rows.empty() ? "" : RowStr(rows[0], 1);
  return Status::Ok();
}

Status SqlLedger::SealRows(SqlConnection& c, ChainTail* tail) {
  if (sealer_.empty()) return Status::Ok();
  RETURN_IF_ERROR(LoadChainTail(c, tail));  // under the chain lock: no other writer moves it
  return sealer_.Seal(c, tail->seq, tail->hash);
}

Status SqlLedger::ApplyOp(SqlConnection& c, const WriteOp& op, ChainTail* tail) {
  // Names what failed; a foreign-key failure names the missing conversation.
  auto check = [](Status st, const std::string& what, const std::optional<Uuid>& conv) {
    if (st.ok()) return st;
    if (st.code() == StatusCode::kNotFound && conv) {
      return NotFound(what + ": conversation " + conv->ToString() + " does not exist");
    }
    return st.WithContext(what);
  };
  return std::visit(
      [&](const auto& v) -> Status {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Conversation>) {
          if (v.id.is_nil()) return InvalidArgument("conversation: id is nil");
          int64_t started = v.started_at_ms != 0 ? v.started_at_ms : clock_.NowUnixMillis();
          RETURN_IF_ERROR(check(
              c.Query(kUpsertConversation,
                      {IdText(v.id), NonEmpty(v.source), NonEmpty(v.title), NonEmpty(v.agent),
                       Int(started), OptInt(v.ended_at_ms),
                       Text(v.status.empty() ? "active" : v.status), OptId(v.previous_id),
                       JsonGiven(v.attributes)},
                      nullptr),
              Describe("conversation", v.id.ToString()), std::nullopt));
          txn_conversations_.insert(v.id);
          sealer_.Touch(SealedTable::kConversations, {IdText(v.id)});
          for (const ExternalId& x : v.external_ids) {
            RETURN_IF_ERROR(c.Query(kInsertExternalId,
                                    {IdText(v.id), Text(x.kind), Text(x.value)}, nullptr)
                                .WithContext(Describe("conversation", v.id.ToString())));
          }
          return Status::Ok();
        } else if constexpr (std::is_same_v<T, EndConversation>) {
          int64_t changed = 0;
          int64_t ended = v.ended_at_ms != 0 ? v.ended_at_ms : clock_.NowUnixMillis();
          RETURN_IF_ERROR(c.Query(kEndConversation,
                                  {IdText(v.id), Text(v.status.empty() ? "ended" : v.status),
                                   Int(ended)},
                                  nullptr, &changed)
                              .WithContext(Describe("end conversation", v.id.ToString())));
          if (changed == 0) return NotFound("conversation " + v.id.ToString() + " does not exist");
          sealer_.Touch(SealedTable::kConversations, {IdText(v.id)});
          return Status::Ok();
        } else if constexpr (std::is_same_v<T, AddExternalId>) {
          if (v.external_id.kind.empty() || v.external_id.value.empty()) {
            return InvalidArgument("external id: kind and value must not be empty");
          }
          return check(c.Query(kInsertExternalId,
                               {IdText(v.conversation_id), Text(v.external_id.kind),
                                Text(v.external_id.value)},
                               nullptr),
                       "external id " + v.external_id.kind + "=" + v.external_id.value,
                       v.conversation_id);
        } else if constexpr (std::is_same_v<T, Event>) {
          return AppendEvents(c, {&v}, {0}, tail);
        } else if constexpr (std::is_same_v<T, ToolCall>) {
          if (v.tool_call_id.empty()) return InvalidArgument("tool call: tool_call_id is empty");
          RETURN_IF_ERROR(RequireConversation(c, v.conversation_id,
                                              [&] { return "tool call " + v.tool_call_id; }));
          std::vector<SqlValue> params;
          AppendToolCallParams(v, &params);
          sealer_.Touch(SealedTable::kToolCalls, {params[0], params[1]});
          return check(c.Query(UpsertToolCallsSql(1), params, nullptr), "tool call " + v.tool_call_id,
                       v.conversation_id);
        } else if constexpr (std::is_same_v<T, Command>) {
          if (v.id.is_nil()) return InvalidArgument("command: id is nil");
          if (v.conversation_id) {
            RETURN_IF_ERROR(RequireConversation(
                c, *v.conversation_id, [&] { return Describe("command", v.id.ToString()); }));
          }
          std::vector<SqlValue> params;
          AppendCommandParams(v, &params);
          sealer_.Touch(SealedTable::kCommands, {params[0]});
          return check(c.Query(UpsertCommandsSql(1), params, nullptr),
                       Describe("command", v.id.ToString()), v.conversation_id);
        } else if constexpr (std::is_same_v<T, FileChange>) {
          if (v.id.is_nil()) return InvalidArgument("file change: id is nil");
          if (v.path.empty()) return InvalidArgument("file change: path is empty");
          sealer_.Touch(SealedTable::kFileChanges, {IdText(v.id)});
          return check(c.Query(kInsertFileChange,
                               {IdText(v.id), OptId(v.conversation_id), Text(v.path),
                                Text(v.change), Int(v.time_ms), Text(v.tool_call_id),
                                JsonText(v.attributes)},
                               nullptr),
                       Describe("file change", v.id.ToString()), v.conversation_id);
        } else if constexpr (std::is_same_v<T, Commit>) {
          if (v.sha.empty()) return InvalidArgument("commit: sha is empty");
          sealer_.Touch(SealedTable::kCommits, {Text(v.sha)});
          return check(c.Query(kUpsertCommit,
                               {Text(v.sha), OptId(v.conversation_id), NonEmpty(v.repo),
                                NonEmpty(v.branch), NonEmpty(v.message), NonEmpty(v.author),
                                v.files.empty() ? Null() : StringList(v.files),
                                NonEmpty(v.trailer), NonZero(v.time_ms)},
                               nullptr),
                       Describe("commit", v.sha), v.conversation_id);
        } else if constexpr (std::is_same_v<T, Deployment>) {
          if (v.id.is_nil()) return InvalidArgument("deployment: id is nil");
          sealer_.Touch(SealedTable::kDeployments, {IdText(v.id)});
          return check(c.Query(kUpsertDeployment,
                               {IdText(v.id), OptId(v.conversation_id), NonEmpty(v.environment),
                                NonEmpty(v.commit_sha),
                                Text(v.status.empty() ? "started" : v.status),
                                NonZero(v.started_at_ms), OptInt(v.finished_at_ms),
                                JsonGiven(v.attributes)},
                               nullptr),
                       Describe("deployment", v.id.ToString()), v.conversation_id);
        } else if constexpr (std::is_same_v<T, SnapshotRecord>) {
          if (v.snapshot_id.empty()) return InvalidArgument("snapshot: snapshot_id is empty");
          sealer_.Touch(SealedTable::kSnapshots, {Text(v.snapshot_id)});
          return check(c.Query(kUpsertSnapshot,
                               {Text(v.snapshot_id), OptId(v.conversation_id),
                                NonEmpty(v.repository), NonEmpty(v.reason),
                                v.paths.empty() ? Null() : StringList(v.paths),
                                v.tags.empty() ? Null() : StringList(v.tags), NonZero(v.time_ms),
                                JsonGiven(v.stats)},
                               nullptr),
                       Describe("snapshot", v.snapshot_id), v.conversation_id);
        } else if constexpr (std::is_same_v<T, BackupRecord>) {
          if (v.id.is_nil()) return InvalidArgument("backup: id is nil");
          sealer_.Touch(SealedTable::kBackups, {IdText(v.id)});
          return check(c.Query(kUpsertBackup,
                               {IdText(v.id), NonEmpty(v.job), NonEmpty(v.snapshot_id),
                                Text(v.status.empty() ? "running" : v.status),
                                NonZero(v.started_at_ms), OptInt(v.finished_at_ms),
                                JsonGiven(v.attributes)},
                               nullptr),
                       Describe("backup", v.id.ToString()), std::nullopt);
        } else if constexpr (std::is_same_v<T, RollbackRecord>) {
          if (v.id.is_nil()) return InvalidArgument("rollback: id is nil");
          sealer_.Touch(SealedTable::kRollbacks, {IdText(v.id)});
          return check(c.Query(kUpsertRollback,
                               {IdText(v.id), OptId(v.conversation_id), NonEmpty(v.target_kind),
                                NonEmpty(v.target), NonEmpty(v.mode),
                                Text(v.status.empty() ? "planned" : v.status),
                                NonEmpty(v.pre_snapshot_id), NonZero(v.started_at_ms),
                                OptInt(v.finished_at_ms), JsonGiven(v.plan)},
                               nullptr),
                       Describe("rollback", v.id.ToString()), v.conversation_id);
        } else if constexpr (std::is_same_v<T, Token>) {
          if (v.id.is_nil()) return InvalidArgument("token: id is nil");
          if (v.hash.empty()) return InvalidArgument("token: hash is empty");
          Status st = c.Query(kUpsertToken,
                              {IdText(v.id), Text(v.name), Text(std::string(RoleName(v.role))),
                               Text(v.hash),
                               Int(v.created_at_ms != 0 ? v.created_at_ms
                                                        : clock_.NowUnixMillis()),
                               Int(v.revoked ? 1 : 0)},
                              nullptr);
          if (st.code() == StatusCode::kAlreadyExists) {
            return AlreadyExists("token " + v.name + ": a token with this hash already exists");
          }
          return st.WithContext("token " + v.name);
        }
      },
      op);
}

// ---------------------------------------------------------------------------------------
// Reads

namespace {

Status LoadExternalIds(SqlConnection& c, Conversation* conv) {
  std::vector<SqlRow> rows;
  RETURN_IF_ERROR(c.Query(
      "SELECT kind, value FROM conversation_external_ids WHERE conversation_id = $1 "
      "ORDER BY kind, value",
      {IdText(conv->id)}, &rows));
  conv->external_ids.clear();
  for (const auto& r : rows) conv->external_ids.push_back({RowStr(r, 0), RowStr(r, 1)});
  return Status::Ok();
}

Result<Conversation> GetConversationOn(SqlConnection& c, const Uuid& id) {
  std::vector<SqlRow> rows;
  RETURN_IF_ERROR(c.Query(Cat({"SELECT ", kConversationCols, " FROM conversations c WHERE c.id = $1"}),
                          {IdText(id)}, &rows));
  if (rows.empty()) return NotFound("conversation " + id.ToString() + " does not exist");
  Conversation conv = DecodeConversation(rows[0]);
  RETURN_IF_ERROR(LoadExternalIds(c, &conv));
  return conv;
}

template <typename T, typename Decode>
Status QueryList(SqlConnection& c, const std::string& sql, const std::vector<SqlValue>& params,
                 Decode decode, std::vector<T>* out) {
  std::vector<SqlRow> rows;
  RETURN_IF_ERROR(c.Query(sql, params, &rows));
  out->reserve(out->size() + rows.size());
  for (const auto& r : rows) out->push_back(decode(r));
  return Status::Ok();
}

}  // namespace

Result<Conversation> SqlLedger::GetConversation(const Uuid& id) {
  return WithReader([&](SqlConnection& c) { return GetConversationOn(c, id); });
}

Result<std::optional<Conversation>> SqlLedger::FindConversationByExternal(
    const std::string& kind, const std::string& value) {
  return WithReader([&](SqlConnection& c) -> Result<std::optional<Conversation>> {
    std::vector<SqlRow> rows;
    RETURN_IF_ERROR(c.Query(
        Cat({"SELECT ", kConversationCols,
             " FROM conversations c JOIN conversation_external_ids x ON x.conversation_id = c.id "
             "WHERE x.kind = $1 AND x.value = $2 ORDER BY c.started_at_ms DESC, c.id DESC "
             "LIMIT 1"}),
        {Text(kind), Text(value)}, &rows));
    if (rows.empty()) return std::optional<Conversation>();
    Conversation conv = DecodeConversation(rows[0]);
    RETURN_IF_ERROR(LoadExternalIds(c, &conv));
    return std::optional<Conversation>(std::move(conv));
  });
}

Result<std::vector<Conversation>> SqlLedger::ListConversations(const ConversationFilter& f) {
  std::string sql = Cat({"SELECT ", kConversationCols, " FROM conversations c WHERE 1 = 1"});
  std::vector<SqlValue> params;
  auto param = [&](SqlValue v) {
    params.push_back(std::move(v));
    return "$" + std::to_string(params.size());
  };
  if (f.since_ms) sql += " AND c.started_at_ms >= " + param(Int(*f.since_ms));
  if (f.until_ms) sql += " AND c.started_at_ms < " + param(Int(*f.until_ms));
  if (!f.status.empty()) sql += " AND c.status = " + param(Text(f.status));
  if (!f.query.empty()) {
    std::string lower = f.query;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    std::string p = param(Text(LikeContains(lower)));
    sql += " AND (LOWER(c.title) LIKE " + p + " ESCAPE '\\' OR LOWER(c.agent) LIKE " + p +
           " ESCAPE '\\' OR CAST(c.id AS TEXT) LIKE " + p +
           " ESCAPE '\\' OR EXISTS (SELECT 1 FROM conversation_external_ids x WHERE "
           "x.conversation_id = c.id AND LOWER(x.value) LIKE " +
           p + " ESCAPE '\\'))";
  }
  int limit = f.limit > 0 ? std::min(f.limit, 10000) : 100;
  sql += " ORDER BY c.started_at_ms DESC, c.id DESC LIMIT " + param(Int(limit));
  return WithReader([&](SqlConnection& c) -> Result<std::vector<Conversation>> {
    std::vector<Conversation> out;
    RETURN_IF_ERROR(QueryList(c, sql, params, DecodeConversation, &out));
    for (auto& conv : out) RETURN_IF_ERROR(LoadExternalIds(c, &conv));
    return out;
  });
}

Result<Trace> SqlLedger::GetTrace(const Uuid& id) {
  return WithReader([&](SqlConnection& c) -> Result<Trace> {
    Trace t;
    ASSIGN_OR_RETURN(t.conversation, GetConversationOn(c, id));
    std::vector<SqlValue> p = {IdText(id)};
    RETURN_IF_ERROR(QueryList(
        c, Cat({"SELECT ", kEventCols, " FROM events WHERE conversation_id = $1 ORDER BY time_ms, seq"}),
        p, DecodeEvent, &t.events));
    RETURN_IF_ERROR(QueryList(c,
                              Cat({"SELECT ", kToolCallCols,
                                   " FROM tool_calls WHERE conversation_id = $1 "
                                   "ORDER BY started_at_ms, tool_call_id"}),
                              p, DecodeToolCall, &t.tool_calls));
    RETURN_IF_ERROR(QueryList(c,
                              Cat({"SELECT ", kCommandCols,
                                   " FROM commands WHERE conversation_id = $1 "
                                   "ORDER BY started_at_ms, id"}),
                              p, DecodeCommand, &t.commands));
    RETURN_IF_ERROR(QueryList(c,
                              Cat({"SELECT ", kFileChangeCols,
                                   " FROM file_changes WHERE conversation_id = $1 "
                                   "ORDER BY time_ms, id"}),
                              p, DecodeFileChange, &t.file_changes));
    RETURN_IF_ERROR(QueryList(
        c, Cat({"SELECT ", kCommitCols, " FROM commits WHERE conversation_id = $1 ORDER BY time_ms, sha"}),
        p, DecodeCommit, &t.commits));
    RETURN_IF_ERROR(QueryList(c,
                              Cat({"SELECT ", kDeploymentCols,
                                   " FROM deployments WHERE conversation_id = $1 "
                                   "ORDER BY started_at_ms, id"}),
                              p, DecodeDeployment, &t.deployments));
    RETURN_IF_ERROR(QueryList(c,
                              Cat({"SELECT ", kSnapshotCols,
                                   " FROM snapshots WHERE conversation_id = $1 "
                                   "ORDER BY time_ms, snapshot_id"}),
                              p, DecodeSnapshot, &t.snapshots));
    RETURN_IF_ERROR(QueryList(c,
                              Cat({"SELECT ", kBackupCols,
                                   " FROM backups WHERE snapshot_id IN (SELECT snapshot_id FROM "
                                   "snapshots WHERE conversation_id = $1) "
                                   "ORDER BY started_at_ms, id"}),
                              p, DecodeBackup, &t.backups));
    RETURN_IF_ERROR(QueryList(c,
                              Cat({"SELECT ", kRollbackCols,
                                   " FROM rollbacks WHERE conversation_id = $1 OR "
                                   "(target_kind = 'conversation' AND target = $2) "
                                   "ORDER BY started_at_ms, id"}),
                              {IdText(id), Text(id.ToString())}, DecodeRollback, &t.rollbacks));
    return t;
  });
}

Result<Deployment> SqlLedger::GetDeployment(const Uuid& id) {
  return WithReader([&](SqlConnection& c) -> Result<Deployment> {
    std::vector<SqlRow> rows;
    RETURN_IF_ERROR(c.Query(Cat({"SELECT ", kDeploymentCols, " FROM deployments WHERE id = $1"}),
                            {IdText(id)}, &rows));
    if (rows.empty()) return NotFound("deployment " + id.ToString() + " does not exist");
    return DecodeDeployment(rows[0]);
  });
}

Result<std::vector<Deployment>> SqlLedger::ListDeployments(const DeploymentFilter& f) {
  std::string sql = Cat({"SELECT ", kDeploymentCols, " FROM deployments WHERE 1 = 1"});
  std::vector<SqlValue> params;
  auto param = [&](SqlValue v) {
    params.push_back(std::move(v));
    return "$" + std::to_string(params.size());
  };
  if (!f.environment.empty()) sql += " AND environment = " + param(Text(f.environment));
  if (f.since_ms) sql += " AND started_at_ms >= " + param(Int(*f.since_ms));
  if (f.until_ms) sql += " AND started_at_ms < " + param(Int(*f.until_ms));
  int limit = f.limit > 0 ? std::min(f.limit, 10000) : 1000;
  sql += " ORDER BY started_at_ms DESC, id DESC LIMIT " + param(Int(limit));
  return WithReader([&](SqlConnection& c) -> Result<std::vector<Deployment>> {
    std::vector<Deployment> out;
    RETURN_IF_ERROR(QueryList(c, sql, params, DecodeDeployment, &out));
    return out;
  });
}

Result<std::vector<RollbackRecord>> SqlLedger::ListRollbacksFor(const std::string& target_kind,
                                                                const std::string& target) {
  return WithReader([&](SqlConnection& c) -> Result<std::vector<RollbackRecord>> {
    std::vector<RollbackRecord> out;
    RETURN_IF_ERROR(QueryList(c,
                              Cat({"SELECT ", kRollbackCols,
                                   " FROM rollbacks WHERE target_kind = $1 AND target = $2 "
                                   "ORDER BY started_at_ms, id"}),
                              {Text(target_kind), Text(target)}, DecodeRollback, &out));
    return out;
  });
}

Result<std::optional<Commit>> SqlLedger::GetCommit(const std::string& sha) {
  return WithReader([&](SqlConnection& c) -> Result<std::optional<Commit>> {
    std::vector<SqlRow> rows;
    RETURN_IF_ERROR(
        c.Query(Cat({"SELECT ", kCommitCols, " FROM commits WHERE sha = $1"}), {Text(sha)}, &rows));
    if (rows.empty()) return std::optional<Commit>();
    return std::optional<Commit>(DecodeCommit(rows[0]));
  });
}

Result<std::optional<Token>> SqlLedger::FindTokenByHash(const std::string& hash) {
  return WithReader([&](SqlConnection& c) -> Result<std::optional<Token>> {
    std::vector<SqlRow> rows;
    RETURN_IF_ERROR(
        c.Query(Cat({"SELECT ", kTokenCols, " FROM tokens WHERE hash = $1"}), {Text(hash)}, &rows));
    if (rows.empty()) return std::optional<Token>();
    return std::optional<Token>(DecodeToken(rows[0]));
  });
}

Result<int64_t> SqlLedger::CountTokens() {
  return WithReader([&](SqlConnection& c) -> Result<int64_t> {
    std::vector<SqlRow> rows;
    RETURN_IF_ERROR(c.Query("SELECT COUNT(*) FROM tokens WHERE revoked = 0", {}, &rows));
    return rows.empty() ? int64_t{0} : RowInt(rows[0], 0);
  });
}

Result<std::vector<Token>> SqlLedger::ListTokens() {
  return WithReader([&](SqlConnection& c) -> Result<std::vector<Token>> {
    std::vector<SqlRow> rows;
    RETURN_IF_ERROR(c.Query(Cat({"SELECT ", kTokenCols, " FROM tokens ORDER BY created_at_ms, id"}),
                            {}, &rows));
    std::vector<Token> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(DecodeToken(r));
    return out;
  });
}

namespace {
const Status& StatusOf(const Status& st) { return st; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}
}  // namespace

template <typename Fn>
auto SqlLedger::WithBookkeepingWrite(const char* what, Fn&& fn)
    -> decltype(fn(std::declval<SqlConnection&>())) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (!writer_) {
    auto opened = connect_();
    if (!opened.ok()) return opened.status();
    writer_ = std::move(opened).value();
  }
  SqlConnection& c = *writer_;
  RETURN_IF_ERROR(c.Exec(dialect_.begin_write).WithContext(what));
  auto result = fn(c);
  if (const Status& st = StatusOf(result); !st.ok()) {
    c.Exec("ROLLBACK").IgnoreError();
    return st.WithContext(what);
  }
  RETURN_IF_ERROR(c.Exec("COMMIT").WithContext(what));
  return result;
}

Result<bool> SqlLedger::TouchToken(const Uuid& id, int64_t at_ms) {
  return WithBookkeepingWrite("token last use", [&](SqlConnection& c) -> Result<bool> {
    int64_t changed = 0;
    RETURN_IF_ERROR(c.Query(
        "UPDATE tokens SET last_used_at_ms = $2 WHERE id = $1 AND "
        "(last_used_at_ms IS NULL OR last_used_at_ms <= $3)",
        {IdText(id), Int(at_ms), Int(at_ms - 60000)}, nullptr, &changed));
    return changed > 0;
  });
}

// ---------------------------------------------------------------------------------------
// Followers: events after a seq, cursors, leases (bookkeeping outside the chain and seals)

Result<std::vector<Event>> SqlLedger::ReadEventsAfter(int64_t after_seq, int limit) {
  if (limit <= 0) return InvalidArgument("read events: limit must be positive");
  limit = std::min(limit, 10000);
  return WithReader([&](SqlConnection& c) -> Result<std::vector<Event>> {
    std::vector<Event> out;
    RETURN_IF_ERROR(QueryList(c, kEventsAfterSql, {Int(after_seq), Int(limit)}, DecodeEvent, &out)
                        .WithContext("read events"));
    return out;
  });
}

Result<std::optional<int64_t>> SqlLedger::GetCursor(const std::string& name) {
  if (name.empty()) return InvalidArgument("cursor: name is empty");
  return WithReader([&](SqlConnection& c) -> Result<std::optional<int64_t>> {
    std::vector<SqlRow> rows;
    RETURN_IF_ERROR(c.Query(kGetCursor, {Text(name)}, &rows).WithContext("cursor " + name));
    if (rows.empty()) return std::optional<int64_t>();
    return std::optional<int64_t>(RowInt(rows[0], 0));
  });
}

Status SqlLedger::SetCursor(const std::string& name, int64_t seq) {
  if (name.empty()) return InvalidArgument("cursor: name is empty");
  const std::string what = "cursor " + name;
  return WithBookkeepingWrite(what.c_str(), [&](SqlConnection& c) {
    return c.Query(kSetCursor, {Text(name), Int(seq), Int(clock_.NowUnixMillis())}, nullptr);
  });
}

Result<LeaseResult> SqlLedger::TryAcquireLease(const std::string& name, const std::string& holder,
                                               int64_t ttl_ms, int64_t now_ms) {
  if (name.empty()) return InvalidArgument("lease: name is empty");
  if (holder.empty()) return InvalidArgument("lease " + name + ": holder is empty");
  if (ttl_ms <= 0) return InvalidArgument("lease " + name + ": ttl must be positive");
  const std::string what = "lease " + name;
  return WithBookkeepingWrite(what.c_str(), [&](SqlConnection& c) -> Result<LeaseResult> {
    // One statement decides: the row is written only when free, expired or ours, and the
    // engine serialises writers of one row (SQLite: BEGIN IMMEDIATE; PostgreSQL: the row
    // lock ON CONFLICT takes, re-checking the WHERE against the committed row).
    int64_t changed = 0;
    RETURN_IF_ERROR(c.Query(kAcquireLease, {Text(name), Text(holder), Int(now_ms),
                                            Int(now_ms + ttl_ms)},
                            nullptr, &changed));
    std::vector<SqlRow> rows;
    RETURN_IF_ERROR(c.Query(kGetLease, {Text(name)}, &rows));
    LeaseResult r;
    r.lease.name = name;
    if (!rows.empty()) {
      r.lease.holder = RowStr(rows[0], 0);
      r.lease.acquired_at_ms = RowInt(rows[0], 1);
      r.lease.expires_at_ms = RowInt(rows[0], 2);
    }
    r.acquired = changed > 0 && r.lease.holder == holder;
    return r;
  });
}

Result<bool> SqlLedger::ReleaseLease(const std::string& name, const std::string& holder) {
  if (name.empty()) return InvalidArgument("lease: name is empty");
  const std::string what = "lease " + name;
  return WithBookkeepingWrite(what.c_str(), [&](SqlConnection& c) -> Result<bool> {
    int64_t changed = 0;
    RETURN_IF_ERROR(c.Query(kReleaseLease, {Text(name), Text(holder)}, nullptr, &changed));
    return changed > 0;
  });
}

Result<VerifyReport> SqlLedger::VerifyChain() {
  return WithReader([&](SqlConnection& c) -> Result<VerifyReport> {
    VerifyReport report;
    constexpr int64_t kPage = 5000;
    int64_t after = 0;
    int64_t expected_seq = 0;  // 0: the first row may have any seq
    std::string prev_hash;
    const std::string sql = Cat({"SELECT ", kEventCols,
                                 " FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"});
    for (;;) {
      std::vector<SqlRow> rows;
      RETURN_IF_ERROR(c.Query(sql, {Int(after), Int(kPage)}, &rows));
      for (const SqlRow& r : rows) {
        Event e = DecodeEvent(r);
        ++report.rows_checked;
        auto bad = [&](std::string problem) {
          report.ok = false;
          report.first_bad_seq = e.seq;
          report.problem = std::move(problem);
        };
        // The hash covers the attribute bytes as stored, so any edit shows.
        const std::string stored_attributes = RowStr(r, 6);
        if (expected_seq != 0 && e.seq != expected_seq) {
          bad("seq " + std::to_string(e.seq) + " follows " + std::to_string(expected_seq - 1) +
              ": rows are missing");
        } else if (e.prev_hash != prev_hash) {
          bad("prev_hash " + e.prev_hash + " does not match the previous row's hash " +
              (prev_hash.empty() ? std::string("(none)") : prev_hash));
        } else {
          std::string want = ChainHashWithAttributes(prev_hash, e, stored_attributes);
          if (want != e.hash) {
            bad("hash " + e.hash + " does not match its content (expected " + want + ")");
          }
        }
        if (!report.ok) return report;
        prev_hash = e.hash;
        expected_seq = e.seq + 1;
        after = e.seq;
      }
      if (static_cast<int64_t>(rows.size()) < kPage) break;
    }
    // The chain holds: now every projection row against its seal.
    ASSIGN_OR_RETURN(std::optional<RowProblem> bad, VerifyRowSeals(c, &report.projection_rows_checked));
    if (bad) {
      report.ok = false;
      report.table = bad->table;
      report.row = bad->row;
      report.problem = bad->problem;
    }
    return report;
  });
}

Result<LedgerStats> SqlLedger::Stats() {
  return WithReader([&](SqlConnection& c) -> Result<LedgerStats> {
    LedgerStats s;
    std::vector<SqlRow> rows;
    RETURN_IF_ERROR(c.Query("SELECT COUNT(*) FROM events", {}, &rows));
    s.events = rows.empty() ? 0 : RowInt(rows[0], 0);
    rows.clear();
    RETURN_IF_ERROR(c.Query("SELECT COUNT(*) FROM conversations", {}, &rows));
    s.conversations = rows.empty() ? 0 : RowInt(rows[0], 0);
    rows.clear();
    RETURN_IF_ERROR(c.Query(dialect_.size_bytes, {}, &rows));
    s.size_bytes = rows.empty() ? 0 : RowInt(rows[0], 0);
    return s;
  });
}

}  // namespace clawback::ledger
