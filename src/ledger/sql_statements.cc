#include "ledger/sql_statements.h"

namespace clawback::ledger {
namespace {

constexpr OnConflict kKey = OnConflict::kKey;
constexpr OnConflict kIfGiven = OnConflict::kIfGiven;
constexpr OnConflict kKeep = OnConflict::kKeep;
constexpr OnConflict kOverwrite = OnConflict::kOverwrite;

// A column that keeps its stored value when not given; NULL is not given.
constexpr Column Nullable(const char* name) { return {name, kIfGiven, Fallback::kNone, ""}; }
// ... whose insert stores `text` for NULL, and for which `text` is not given either.
constexpr Column OrText(const char* name, const char* text) {
  return {name, kIfGiven, Fallback::kText, text};
}
constexpr Column OrZero(const char* name) { return {name, kIfGiven, Fallback::kZero, ""}; }
constexpr Column Key(const char* name) { return {name, kKey, Fallback::kNone, ""}; }
constexpr Column Plain(const char* name) { return {name, kOverwrite, Fallback::kNone, ""}; }

// The tables' columns, in each table's order (docs/format/ledger-schema.md). The encoders and
// decoders of sql_codec.cc follow these orders.
constexpr Column kConversationColumns[] = {
    Key("id"),
    OrText("source", ""),
    OrText("title", ""),
    OrText("agent", ""),
    {"started_at_ms", kKeep},  // set once
    Nullable("ended_at_ms"),
    OrText("status", "active"),  // the initial status never overwrites a later one
    Nullable("previous_id"),
    OrText("attributes", "{}"),
};
constexpr Column kEventColumns[] = {
    Plain("seq"),  Plain("id"),         Plain("conversation_id"),
    Plain("kind"), Plain("time_ms"),    Plain("actor"),
    Plain("attributes"), Plain("prev_hash"), Plain("hash"),
};
constexpr Column kToolCallColumns[] = {
    Key("conversation_id"),
    Key("tool_call_id"),
    OrText("name", ""),
    OrText("params", "{}"),
    OrText("status", "started"),
    Nullable("exit_code"),
    Nullable("duration_ms"),
    OrZero("started_at_ms"),
    Nullable("finished_at_ms"),
    Nullable("result"),
    OrText("error", ""),
    OrText("run_id", ""),
};
constexpr Column kCommandColumns[] = {
    Key("id"),
    Nullable("conversation_id"),
    OrText("argv", "[]"),
    OrText("cwd", ""),
    Nullable("exit_code"),
    OrZero("started_at_ms"),
    Nullable("duration_ms"),
    OrText("tool_call_id", ""),
};
constexpr Column kFileChangeColumns[] = {
    Plain("id"),      Plain("conversation_id"), Plain("path"),       Plain("change"),
    Plain("time_ms"), Plain("tool_call_id"),    Plain("attributes"),
};
constexpr Column kCommitColumns[] = {
    Key("sha"),
    Nullable("conversation_id"),
    OrText("repo", ""),
    OrText("branch", ""),
    OrText("message", ""),
    OrText("author", ""),
    OrText("files", "[]"),
    OrText("trailer", ""),
    OrZero("time_ms"),
};
constexpr Column kDeploymentColumns[] = {
    Key("id"),
    Nullable("conversation_id"),
    OrText("environment", ""),
    OrText("commit_sha", ""),
    OrText("status", "started"),
    OrZero("started_at_ms"),
    Nullable("finished_at_ms"),
    OrText("attributes", "{}"),
};
constexpr Column kSnapshotColumns[] = {
    Key("snapshot_id"),
    Nullable("conversation_id"),
    OrText("repository", ""),
    OrText("reason", ""),
    OrText("paths", "[]"),
    OrText("tags", "[]"),
    OrZero("time_ms"),
    OrText("stats", "{}"),
};
constexpr Column kBackupColumns[] = {
    Key("id"),
    OrText("job", ""),
    OrText("snapshot_id", ""),
    OrText("status", "running"),
    OrZero("started_at_ms"),
    Nullable("finished_at_ms"),
    OrText("attributes", "{}"),
};
constexpr Column kRollbackColumns[] = {
    Key("id"),
    Nullable("conversation_id"),
    OrText("target_kind", ""),
    OrText("target", ""),
    OrText("mode", ""),
    OrText("status", "planned"),
    OrText("pre_snapshot_id", ""),
    OrZero("started_at_ms"),
    Nullable("finished_at_ms"),
    OrText("plan", "{}"),
};
// A token write replaces the token (its name, role, hash, revocation) but not when it was
// created; last_used_at_ms is not written here (TouchToken).
constexpr Column kTokenColumns[] = {
    Key("id"),    Plain("name"), Plain("role"), Plain("hash"), {"created_at_ms", kKeep},
    Plain("revoked"),
};

constexpr TableSpec kSpecs[kTableCount] = {
    {Table::kConversations, "conversations", true, kConversationColumns},
    {Table::kEvents, "events", false, kEventColumns},
    {Table::kToolCalls, "tool_calls", true, kToolCallColumns},
    {Table::kCommands, "commands", true, kCommandColumns},
    {Table::kFileChanges, "file_changes", false, kFileChangeColumns},
    {Table::kCommits, "commits", true, kCommitColumns},
    {Table::kDeployments, "deployments", true, kDeploymentColumns},
    {Table::kSnapshots, "snapshots", true, kSnapshotColumns},
    {Table::kBackups, "backups", true, kBackupColumns},
    {Table::kRollbacks, "rollbacks", true, kRollbackColumns},
    {Table::kTokens, "tokens", true, kTokenColumns},
};

// The SQL of a column's fallback ("" when it has none).
std::string FallbackSql(const Column& c) {
  switch (c.fallback) {
    case Fallback::kText:
      return Cat({"'", c.text, "'"});
    case Fallback::kZero:
      return "CAST(0 AS BIGINT)";
    case Fallback::kNone:
      break;
  }
  return "";
}

}  // namespace

std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (auto p : parts) s.append(p);
  return s;
}

const TableSpec& TableSpecOf(Table t) { return kSpecs[static_cast<size_t>(t)]; }

std::string SelectList(const TableSpec& t, std::string_view alias) {
  std::string out;
  for (const Column& c : t.columns) {
    if (!out.empty()) out += ", ";
    if (!alias.empty()) out += Cat({alias, "."});
    out += c.name;
  }
  return out;
}

std::string WriteSql(const TableSpec& t, size_t rows) {
  const size_t n = t.columns.size();
  std::string sql = Cat({"INSERT INTO ", t.name, " (", SelectList(t), ") VALUES "});
  for (size_t r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ", (";
    for (size_t i = 0; i < n; ++i) {
      if (i) sql += ", ";
      std::string param = "$" + std::to_string(r * n + i + 1);
      std::string fallback = FallbackSql(t.columns[i]);
      sql += fallback.empty() ? param : Cat({"COALESCE(", param, ", ", fallback, ")"});
    }
    sql += ")";
  }
  if (!t.upsert) return sql;
  std::string key, set;
  for (const Column& c : t.columns) {
    std::string_view name = c.name;
    switch (c.on_conflict) {
      case OnConflict::kKey:
        key += Cat({key.empty() ? "" : ", ", name});
        continue;
      case OnConflict::kKeep:
        continue;
      case OnConflict::kOverwrite:
        set += Cat({set.empty() ? "" : ", ", name, " = EXCLUDED.", name});
        continue;
      case OnConflict::kIfGiven: {
        std::string fallback = FallbackSql(c);
        std::string given = fallback.empty()
                                ? Cat({"EXCLUDED.", name})
                                : Cat({"NULLIF(EXCLUDED.", name, ", ", fallback, ")"});
        set += Cat({set.empty() ? "" : ", ", name, " = COALESCE(", given, ", ", t.name, ".",
                    name, ")"});
        continue;
      }
    }
  }
  return Cat({sql, " ON CONFLICT (", key, ") DO UPDATE SET ", set});
}

const std::string& WriteOneSql(Table t) {
  static const std::array<std::string, kTableCount> kOne = [] {
    std::array<std::string, kTableCount> out;
    for (size_t i = 0; i < kTableCount; ++i) out[i] = WriteSql(kSpecs[i], 1);
    return out;
  }();
  return kOne[static_cast<size_t>(t)];
}

bool NotGiven(const Column& c, const SqlValue& v) {
  if (std::holds_alternative<std::monostate>(v)) return true;
  if (c.on_conflict != OnConflict::kIfGiven) return false;
  switch (c.fallback) {
    case Fallback::kText: {
      const std::string* s = std::get_if<std::string>(&v);
      return s && *s == c.text;
    }
    case Fallback::kZero: {
      const int64_t* i = std::get_if<int64_t>(&v);
      return i && *i == 0;
    }
    case Fallback::kNone:
      break;
  }
  return false;
}

void MergeUpsertRow(const TableSpec& t, std::vector<SqlValue>&& next, SqlValue* row) {
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const Column& c = t.columns[i];
    SqlValue& v = next[i];
    switch (c.on_conflict) {
      case OnConflict::kKey:
      case OnConflict::kOverwrite:
        row[i] = std::move(v);
        break;
      case OnConflict::kKeep:
        if (std::holds_alternative<std::monostate>(row[i])) row[i] = std::move(v);
        break;
      case OnConflict::kIfGiven:
        if (!NotGiven(c, v)) row[i] = std::move(v);
        break;
    }
  }
}

const std::string& MultiRowStatements::For(size_t rows) {
  std::string& sql = sql_[rows];
  if (sql.empty()) sql = WriteSql(TableSpecOf(table_), rows);
  return sql;
}

// ---------------------------------------------------------------------------------------
// Fixed statements

const char* const kInsertExternalId =
    "INSERT INTO conversation_external_ids (conversation_id, kind, value) VALUES ($1, $2, $3) "
    "ON CONFLICT (kind, value, conversation_id) DO NOTHING";
const char* const kSelectExternalIds =
    "SELECT kind, value FROM conversation_external_ids WHERE conversation_id = $1 "
    "ORDER BY kind, value";
const char* const kEndConversation =
    "UPDATE conversations SET status = $2, ended_at_ms = $3 WHERE id = $1";
const char* const kChainTail = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1";
const char* const kConversationExists = "SELECT 1 FROM conversations WHERE id = $1";
const char* const kTouchToken =
    "UPDATE tokens SET last_used_at_ms = $2 WHERE id = $1 AND "
    "(last_used_at_ms IS NULL OR last_used_at_ms <= $3)";
const char* const kInsertMigration =
    "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)";
const char* const kCreateSchemaMigrations =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
    "name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)";

const char* const kGetCursor = "SELECT seq FROM cursors WHERE name = $1";
const char* const kSetCursor =
    "INSERT INTO cursors (name, seq, updated_at_ms) VALUES ($1, $2, $3) "
    "ON CONFLICT (name) DO UPDATE SET seq = EXCLUDED.seq, updated_at_ms = EXCLUDED.updated_at_ms";
// Written only when free (no row), expired or the holder's own (a renewal, which keeps
// acquired_at_ms unless the lease had lapsed).
const char* const kAcquireLease =
    "INSERT INTO leases (name, holder, acquired_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, "
    "acquired_at_ms = CASE WHEN leases.holder = EXCLUDED.holder AND "
    "leases.expires_at_ms > EXCLUDED.acquired_at_ms THEN leases.acquired_at_ms "
    "ELSE EXCLUDED.acquired_at_ms END, "
    "expires_at_ms = EXCLUDED.expires_at_ms "
    "WHERE leases.holder = EXCLUDED.holder OR leases.expires_at_ms <= EXCLUDED.acquired_at_ms";
const char* const kGetLease =
    "SELECT holder, acquired_at_ms, expires_at_ms FROM leases WHERE name = $1";
const char* const kReleaseLease = "DELETE FROM leases WHERE name = $1 AND holder = $2";

}  // namespace clawback::ledger
