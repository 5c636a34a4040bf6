#include "ledger/trace_json.h"

#include "common/clock.h"

namespace clawback::ledger {
namespace {

Json Time(int64_t ms) { return FormatRfc3339Millis(ms); }
Json OptTime(const std::optional<int64_t>& ms) { return ms ? Time(*ms) : Json(nullptr); }
Json OptInt(const std::optional<int64_t>& v) { return v ? Json(*v) : Json(nullptr); }
Json OptInt(const std::optional<int>& v) { return v ? Json(*v) : Json(nullptr); }
Json OptId(const std::optional<Uuid>& id) { return id ? Json(id->ToString()) : Json(nullptr); }
Json OrNull(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

template <typename T, typename F>
Json Array(const std::vector<T>& items, F to_json) {
  Json a = Json::array();
  for (const auto& item : items) a.push_back(to_json(item));
  return a;
}

}  // namespace

Json ConversationToJson(const Conversation& c) {
  Json ext = Json::array();
  for (const auto& e : c.external_ids) ext.push_back({{"kind", e.kind}, {"value", e.value}});
  std::optional<int64_t> duration;
  if (c.ended_at_ms) duration = *c.ended_at_ms - c.started_at_ms;
  return {{"id", c.id.ToString()},
          {"source", c.source},
          {"title", c.title},
          {"agent", c.agent},
          {"status", c.status},
          {"started_at", Time(c.started_at_ms)},
          {"ended_at", OptTime(c.ended_at_ms)},
          {"duration_ms", OptInt(duration)},
          {"previous_id", OptId(c.previous_id)},
          {"trace_id", c.id.ToHex()},
          {"external_ids", std::move(ext)},
          {"attributes", c.attributes.is_null() ? Json::object() : c.attributes}};
}

Json EventToJson(const Event& e) {
  return {{"seq", e.seq},
          {"id", e.id.ToString()},
          {"conversation_id", OptId(e.conversation_id)},
          {"kind", e.kind},
          {"time", Time(e.time_ms)},
          {"actor", e.actor},
          {"attributes", e.attributes.is_null() ? Json::object() : e.attributes},
          {"hash", e.hash},
          {"prev_hash", e.prev_hash}};
}

Json ToolCallToJson(const ToolCall& t) {
  return {{"conversation_id", t.conversation_id.ToString()},
          {"tool_call_id", t.tool_call_id},
          {"name", t.name},
          {"params", t.params},
          {"status", t.status},
          {"exit_code", OptInt(t.exit_code)},
          {"duration_ms", OptInt(t.duration_ms)},
          {"started_at", Time(t.started_at_ms)},
          {"finished_at", OptTime(t.finished_at_ms)},
          {"result", t.result},
          {"error", OrNull(t.error)},
          {"run_id", OrNull(t.run_id)}};
}

Json CommandToJson(const Command& c) {
  return {{"id", c.id.ToString()},
          {"conversation_id", OptId(c.conversation_id)},
          {"argv", c.argv},
          {"cwd", c.cwd},
          {"exit_code", OptInt(c.exit_code)},
          {"started_at", Time(c.started_at_ms)},
          {"duration_ms", OptInt(c.duration_ms)},
          {"tool_call_id", OrNull(c.tool_call_id)}};
}

Json FileChangeToJson(const FileChange& f) {
  return {{"id", f.id.ToString()},
          {"conversation_id", OptId(f.conversation_id)},
          {"path", f.path},
          {"change", f.change},
          {"time", Time(f.time_ms)},
          {"tool_call_id", OrNull(f.tool_call_id)},
          {"attributes", f.attributes.is_null() ? Json::object() : f.attributes}};
}

Json CommitToJson(const Commit& c) {
  return {{"sha", c.sha},
          {"conversation_id", OptId(c.conversation_id)},
          {"repo", c.repo},
          {"branch", c.branch},
          {"message", c.message},
          {"author", c.author},
          {"files", c.files},
          {"trailer", OrNull(c.trailer)},
          {"time", Time(c.time_ms)}};
}

Json DeploymentToJson(const Deployment& d) {
  std::optional<int64_t> duration;
  if (d.finished_at_ms) duration = *d.finished_at_ms - d.started_at_ms;
  return {{"id", d.id.ToString()},
          {"conversation_id", OptId(d.conversation_id)},
          {"environment", d.environment},
          {"commit_sha", OrNull(d.commit_sha)},
          {"status", d.status},
          {"started_at", Time(d.started_at_ms)},
          {"finished_at", OptTime(d.finished_at_ms)},
          {"duration_ms", OptInt(duration)},
          {"attributes", d.attributes.is_null() ? Json::object() : d.attributes}};
}

Json SnapshotToJson(const SnapshotRecord& s) {
  return {{"snapshot_id", s.snapshot_id},
          {"conversation_id", OptId(s.conversation_id)},
          {"repository", s.repository},
          {"reason", s.reason},
          {"paths", s.paths},
          {"tags", s.tags},
          {"time", Time(s.time_ms)},
          {"stats", s.stats.is_null() ? Json::object() : s.stats}};
}

Json BackupToJson(const BackupRecord& b) {
  std::optional<int64_t> duration;
  if (b.finished_at_ms) duration = *b.finished_at_ms - b.started_at_ms;
  return {{"id", b.id.ToString()},
          {"job", b.job},
          {"snapshot_id", OrNull(b.snapshot_id)},
          {"status", b.status},
          {"started_at", Time(b.started_at_ms)},
          {"finished_at", OptTime(b.finished_at_ms)},
          {"duration_ms", OptInt(duration)},
          {"attributes", b.attributes.is_null() ? Json::object() : b.attributes}};
}

Json RollbackToJson(const RollbackRecord& r) {
  std::optional<int64_t> duration;
  if (r.finished_at_ms) duration = *r.finished_at_ms - r.started_at_ms;
  return {{"id", r.id.ToString()},
          {"conversation_id", OptId(r.conversation_id)},
          {"target_kind", r.target_kind},
          {"target", r.target},
          {"mode", r.mode},
          {"status", r.status},
          {"pre_snapshot_id", OrNull(r.pre_snapshot_id)},
          {"started_at", Time(r.started_at_ms)},
          {"finished_at", OptTime(r.finished_at_ms)},
          {"duration_ms", OptInt(duration)},
          {"plan", r.plan.is_null() ? Json::object() : r.plan}};
}

Json TraceToJson(const Trace& t) {
  return {{"conversation", ConversationToJson(t.conversation)},
          {"tool_calls", Array(t.tool_calls, ToolCallToJson)},
          {"commands", Array(t.commands, CommandToJson)},
          {"file_changes", Array(t.file_changes, FileChangeToJson)},
          {"commits", Array(t.commits, CommitToJson)},
          {"deployments", Array(t.deployments, DeploymentToJson)},
          {"snapshots", Array(t.snapshots, SnapshotToJson)},
          {"backups", Array(t.backups, BackupToJson)},
          {"rollbacks", Array(t.rollbacks, RollbackToJson)},
          {"events", Array(t.events, EventToJson)}};
}

Json ConversationListToJson(const std::vector<Conversation>& list) {
  return {{"conversations", Array(list, ConversationToJson)}};
}

}  // namespace clawback::ledger
