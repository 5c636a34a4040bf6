#include "ledger/sql_codec.h"

#include <charconv>

namespace clawback::ledger {

// ---------------------------------------------------------------------------------------
// Row accessors (sql_connection.h)

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

// ---------------------------------------------------------------------------------------
// Values

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

// ---------------------------------------------------------------------------------------
// Encoders, in the column orders of sql_statements.cc

void EncodeToolCall(const ToolCall& v, std::vector<SqlValue>* p) {
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

void EncodeCommand(const Command& v, std::vector<SqlValue>* p) {
  p->push_back(IdText(v.id));
  p->push_back(OptId(v.conversation_id));
  p->push_back(v.argv.empty() ? Null() : StringList(v.argv));
  p->push_back(NonEmpty(v.cwd));
  p->push_back(OptInt(v.exit_code));
  p->push_back(NonZero(v.started_at_ms));
  p->push_back(OptInt(v.duration_ms));
  p->push_back(NonEmpty(v.tool_call_id));
}

void EncodeConversation(const Conversation& v, int64_t now_ms, std::vector<SqlValue>* p) {
  p->push_back(IdText(v.id));
  p->push_back(NonEmpty(v.source));
  p->push_back(NonEmpty(v.title));
  p->push_back(NonEmpty(v.agent));
  p->push_back(Int(v.started_at_ms != 0 ? v.started_at_ms : now_ms));
  p->push_back(OptInt(v.ended_at_ms));
  p->push_back(Text(v.status.empty() ? "active" : v.status));
  p->push_back(OptId(v.previous_id));
  p->push_back(JsonGiven(v.attributes));
}

void EncodeFileChange(const FileChange& v, std::vector<SqlValue>* p) {
  p->push_back(IdText(v.id));
  p->push_back(OptId(v.conversation_id));
  p->push_back(Text(v.path));
  p->push_back(Text(v.change));
  p->push_back(Int(v.time_ms));
  p->push_back(Text(v.tool_call_id));
  p->push_back(JsonText(v.attributes));
}

void EncodeCommit(const Commit& v, std::vector<SqlValue>* p) {
  p->push_back(Text(v.sha));
  p->push_back(OptId(v.conversation_id));
  p->push_back(NonEmpty(v.repo));
  p->push_back(NonEmpty(v.branch));
  p->push_back(NonEmpty(v.message));
  p->push_back(NonEmpty(v.author));
  p->push_back(v.files.empty() ? Null() : StringList(v.files));
  p->push_back(NonEmpty(v.trailer));
  p->push_back(NonZero(v.time_ms));
}

void EncodeDeployment(const Deployment& v, std::vector<SqlValue>* p) {
  p->push_back(IdText(v.id));
  p->push_back(OptId(v.conversation_id));
  p->push_back(NonEmpty(v.environment));
  p->push_back(NonEmpty(v.commit_sha));
  p->push_back(Text(v.status.empty() ? "started" : v.status));
  p->push_back(NonZero(v.started_at_ms));
  p->push_back(OptInt(v.finished_at_ms));
  p->push_back(JsonGiven(v.attributes));
}

void EncodeSnapshot(const SnapshotRecord& v, std::vector<SqlValue>* p) {
  p->push_back(Text(v.snapshot_id));
  p->push_back(OptId(v.conversation_id));
  p->push_back(NonEmpty(v.repository));
  p->push_back(NonEmpty(v.reason));
  p->push_back(v.paths.empty() ? Null() : StringList(v.paths));
  p->push_back(v.tags.empty() ? Null() : StringList(v.tags));
  p->push_back(NonZero(v.time_ms));
  p->push_back(JsonGiven(v.stats));
}

void EncodeBackup(const BackupRecord& v, std::vector<SqlValue>* p) {
  p->push_back(IdText(v.id));
  p->push_back(NonEmpty(v.job));
  p->push_back(NonEmpty(v.snapshot_id));
  p->push_back(Text(v.status.empty() ? "running" : v.status));
  p->push_back(NonZero(v.started_at_ms));
  p->push_back(OptInt(v.finished_at_ms));
  p->push_back(JsonGiven(v.attributes));
}

void EncodeRollback(const RollbackRecord& v, std::vector<SqlValue>* p) {
  p->push_back(IdText(v.id));
  p->push_back(OptId(v.conversation_id));
  p->push_back(NonEmpty(v.target_kind));
  p->push_back(NonEmpty(v.target));
  p->push_back(NonEmpty(v.mode));
  p->push_back(Text(v.status.empty() ? "planned" : v.status));
  p->push_back(NonEmpty(v.pre_snapshot_id));
  p->push_back(NonZero(v.started_at_ms));
  p->push_back(OptInt(v.finished_at_ms));
  p->push_back(JsonGiven(v.plan));
}

void EncodeToken(const Token& v, int64_t now_ms, std::vector<SqlValue>* p) {
  p->push_back(IdText(v.id));
  p->push_back(Text(v.name));
  p->push_back(Text(std::string(RoleName(v.role))));
  p->push_back(Text(v.hash));
  p->push_back(Int(v.created_at_ms != 0 ? v.created_at_ms : now_ms));
  p->push_back(Int(v.revoked ? 1 : 0));
}

// ---------------------------------------------------------------------------------------
// Decoders

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

}  // namespace clawback::ledger
