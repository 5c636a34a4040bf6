// SqlLedger's reads (sql_ledger.h): each in a read snapshot on a pooled reader connection.
#include <algorithm>
#include <cctype>
#include <utility>

#include "ledger/ledger_internal.h"
#include "ledger/row_seal.h"
#include "ledger/sql_codec.h"
#include "ledger/sql_ledger.h"
#include "ledger/sql_statements.h"

namespace clawback::ledger {
namespace {

// Column lists, from the tables' TableSpecs (sql_statements.cc), read by the decoders of
// sql_codec.h by position.
const std::string kConversationCols = SelectList(TableSpecOf(Table::kConversations), "c");
const std::string kEventCols = SelectList(TableSpecOf(Table::kEvents));
const std::string kToolCallCols = SelectList(TableSpecOf(Table::kToolCalls));
const std::string kCommandCols = SelectList(TableSpecOf(Table::kCommands));
const std::string kFileChangeCols = SelectList(TableSpecOf(Table::kFileChanges));
const std::string kCommitCols = SelectList(TableSpecOf(Table::kCommits));
const std::string kDeploymentCols = SelectList(TableSpecOf(Table::kDeployments));
const std::string kSnapshotCols = SelectList(TableSpecOf(Table::kSnapshots));
const std::string kBackupCols = SelectList(TableSpecOf(Table::kBackups));
const std::string kRollbackCols = SelectList(TableSpecOf(Table::kRollbacks));
const std::string kTokenCols = SelectList(TableSpecOf(Table::kTokens)) + ", last_used_at_ms";
const std::string kEventsAfterSql =
    Cat({"SELECT ", kEventCols, " FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"});

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


Status LoadExternalIds(SqlConnection& c, Conversation* conv) {
  std::vector<SqlRow> rows;
  RETURN_IF_ERROR(c.Query(kSelectExternalIds, {IdText(conv->id)}, &rows));
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

// Followers (schema version 5; the cursor writes and leases are in sql_ledger.cc)

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

Result<VerifyReport> SqlLedger::VerifyChain() {
  return WithReader([&](SqlConnection& c) -> Result<VerifyReport> {
    VerifyReport report;
    constexpr int64_t kPage = 5000;
    int64_t after = 0;
    int64_t expected_seq = 0;  // 0: the first row may have any seq
    std::string prev_hash;
    for (;;) {
      std::vector<SqlRow> rows;
      RETURN_IF_ERROR(c.Query(kEventsAfterSql, {Int(after), Int(kPage)}, &rows));
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
