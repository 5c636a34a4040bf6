#include "ledger/sql_statements.h"

namespace clawback::ledger {
namespace {

constexpr OnConflict kKey = OnConflict::kKey;
constexpr OnConflict kIfGiven = OnConflict::kIfGiven;
constexpr OnConflict kKeep = OnConflict::kKeep;
constexpr OnConflict kOverwrite = OnConflict::kOverwrite;

constexpr SqlType kText = SqlType::kText;
constexpr SqlType kInt = SqlType::kInt;
constexpr SqlType kUuid = SqlType::kUuid;

// A column that keeps its stored value when not given; NULL is not given.
constexpr Column Nullable(const char* name, SqlType type = kText) {
  return {name, kIfGiven, Fallback::kNone, "", type};
}
// ... whose insert stores `text` for NULL, and for which `text` is not given either.
constexpr Column OrText(const char* name, const char* text) {
  return {name, kIfGiven, Fallback::kText, text, kText};
}
constexpr Column OrZero(const char* name) { return {name, kIfGiven, Fallback::kZero, "", kInt}; }
constexpr Column Key(const char* name, SqlType type = kText) {
  return {name, kKey, Fallback::kNone, "", type};
}
constexpr Column Plain(const char* name, SqlType type = kText) {
  return {name, kOverwrite, Fallback::kNone, "", type};
}
constexpr Column Kept(const char* name, SqlType type) {
  return {name, kKeep, Fallback::kNone, "", type};
}

// The tables' columns, in each table's order (docs/format/ledger-schema.md). The encoders and
// decoders of sql_codec.cc follow these orders.
constexpr Column kConversationColumns[] = {
    Key("id", kUuid),
    OrText("source", ""),
    OrText("title", ""),
    OrText("agent", ""),
    Kept("started_at_ms", kInt),  // set once
    Nullable("ended_at_ms", kInt),
    OrText("status", "active"),  // the initial status never overwrites a later one
    Nullable("previous_id", kUuid),
    OrText("attributes", "{}"),
};
constexpr Column kEventColumns[] = {
    Plain("seq", kInt), Plain("id", kUuid),   Plain("conversation_id", kUuid),
    Plain("kind"),      Plain("time_ms", kInt), Plain("actor"),
    Plain("attributes"), Plain("prev_hash"),  Plain("hash"),
};
constexpr Column kToolCallColumns[] = {
    Key("conversation_id", kUuid),
    Key("tool_call_id"),
    OrText("name", ""),
    OrText("params", "{}"),
    OrText("status", "started"),
    Nullable("exit_code", kInt),
    Nullable("duration_ms", kInt),
    OrZero("started_at_ms"),
    Nullable("finished_at_ms", kInt),
    Nullable("result"),
    OrText("error", ""),
    OrText("run_id", ""),
};
constexpr Column kCommandColumns[] = {
    Key("id", kUuid),
    Nullable("conversation_id", kUuid),
    OrText("argv", "[]"),
    OrText("cwd", ""),
    Nullable("exit_code", kInt),
    OrZero("started_at_ms"),
    Nullable("duration_ms", kInt),
    OrText("tool_call_id", ""),
};
constexpr Column kFileChangeColumns[] = {
    Plain("id", kUuid),      Plain("conversation_id", kUuid), Plain("path"),
    Plain("change"),         Plain("time_ms", kInt),          Plain("tool_call_id"),
    Plain("attributes"),
};
constexpr Column kCommitColumns[] = {
    Key("sha"),
    Nullable("conversation_id", kUuid),
    OrText("repo", ""),
    OrText("branch", ""),
    OrText("message", ""),
    OrText("author", ""),
    OrText("files", "[]"),
    OrText("trailer", ""),
    OrZero("time_ms"),
};
constexpr Column kDeploymentColumns[] = {
    Key("id", kUuid),
    Nullable("conversation_id", kUuid),
    OrText("environment", ""),
    OrText("commit_sha", ""),
    OrText("status", "started"),
    OrZero("started_at_ms"),
    Nullable("finished_at_ms", kInt),
    OrText("attributes", "{}"),
};
constexpr Column kSnapshotColumns[] = {
    Key("snapshot_id"),
    Nullable("conversation_id", kUuid),
    OrText("repository", ""),
    OrText("reason", ""),
    OrText("paths", "[]"),
    OrText("tags", "[]"),
    OrZero("time_ms"),
    OrText("stats", "{}"),
};
constexpr Column kBackupColumns[] = {
    Key("id", kUuid),
    OrText("job", ""),
    OrText("snapshot_id", ""),
    OrText("status", "running"),
    OrZero("started_at_ms"),
    Nullable("finished_at_ms", kInt),
    OrText("attributes", "{}"),
};
constexpr Column kRollbackColumns[] = {
    Key("id", kUuid),
    Nullable("conversation_id", kUuid),
    OrText("target_kind", ""),
    OrText("target", ""),
    OrText("mode", ""),
    OrText("status", "planned"),
    OrText("pre_snapshot_id", ""),
    OrZero("started_at_ms"),
    Nullable("finished_at_ms", kInt),
    OrText("plan", "{}"),
};
// A token write replaces the token (its name, role, hash, revocation) but not when it was
// created; last_used_at_ms is not written here (TouchToken).
constexpr Column kTokenColumns[] = {
    Key("id", kUuid), Plain("name"),           Plain("role"), Plain("hash"),
    Kept("created_at_ms", kInt), Plain("revoked", kInt),
};

constexpr TableSpec kSpecs[kTableCount] = {
    {Table::kConversations, "conversations", true, true, kConversationColumns},
    {Table::kEvents, "events", false, false, kEventColumns},
    {Table::kToolCalls, "tool_calls", true, true, kToolCallColumns},
    {Table::kCommands, "commands", true, true, kCommandColumns},
    {Table::kFileChanges, "file_changes", false, true, kFileChangeColumns},
    {Table::kCommits, "commits", true, true, kCommitColumns},
    {Table::kDeployments, "deployments", true, true, kDeploymentColumns},
    {Table::kSnapshots, "snapshots", true, true, kSnapshotColumns},
    {Table::kBackups, "backups", true, true, kBackupColumns},
    {Table::kRollbacks, "rollbacks", true, true, kRollbackColumns},
    {Table::kTokens, "tokens", true, false, kTokenColumns},
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

namespace {

std::string Param(size_t n) { return "$" + std::to_string(n); }

// Parameter $n as column `c` stores it: cast to the column's type where the dialect needs
// that (only for a sealed write, whose seal reads the value before the column stores it),
// and the fallback for NULL.
std::string InsertedValue(const Column& c, size_t n, const Dialect* typed) {
  std::string param = Param(n);
  if (typed && typed->typed) param = typed->typed(c.type, param);
  std::string fallback = FallbackSql(c);
  return fallback.empty() ? param : Cat({"COALESCE(", param, ", ", fallback, ")"});
}

// The value column `c` has after the upsert updated a stored row of `t`.
std::string MergedValue(const TableSpec& t, const Column& c) {
  std::string_view name = c.name;
  switch (c.on_conflict) {
    case OnConflict::kKey:
    case OnConflict::kKeep:
      return Cat({t.name, ".", name});
    case OnConflict::kOverwrite:
      return Cat({"EXCLUDED.", name});
    case OnConflict::kIfGiven:
      break;
  }
  std::string fallback = FallbackSql(c);
  std::string given = fallback.empty() ? Cat({"EXCLUDED.", name})
                                       : Cat({"NULLIF(EXCLUDED.", name, ", ", fallback, ")"});
  return Cat({"COALESCE(", given, ", ", t.name, ".", name, ")"});
}

// The seal of a row of `t` whose values are `values` (SQL expressions, in column order).
std::string SealOf(const TableSpec& t, const std::vector<std::string>& values,
                   const std::string& chain_param, const Dialect& d) {
  std::vector<std::string> parenthesized;
  parenthesized.reserve(values.size());
  for (const std::string& v : values) parenthesized.push_back(Cat({"(", v, ")"}));
  return d.seal_expression(chain_param, t.name, parenthesized);
}

}  // namespace

std::string WriteSql(const TableSpec& t, size_t rows, const Dialect& d) {
  const size_t n = t.columns.size();
  const Dialect* typed = t.sealed ? &d : nullptr;
  std::string values;
  for (size_t r = 0; r < rows; ++r) {
    values += r == 0 ? "(" : ", (";
    for (size_t i = 0; i < n; ++i) {
      if (i) values += ", ";
      values += InsertedValue(t.columns[i], r * n + i + 1, typed);
    }
    values += ")";
  }
  std::string sql;
  std::string seq_param = Param(rows * n + 1), chain_param = Param(rows * n + 2);
  if (!t.sealed) {
    sql = Cat({"INSERT INTO ", t.name, " (", SelectList(t), ") VALUES ", values});
  } else {
    // The rows as a named VALUES list, so the seal can read the values the insert stores.
    std::vector<std::string> inserted;
    for (const Column& c : t.columns) inserted.push_back(Cat({"v.", c.name}));
    sql = Cat({"WITH v (", SelectList(t), ") AS (VALUES ", values, ") INSERT INTO ", t.name,
               " (", SelectList(t), ", row_seq, row_hash) SELECT ", SelectList(t, "v"),
               ", CAST(", seq_param, " AS BIGINT), ", SealOf(t, inserted, chain_param, d),
               " FROM v WHERE true"});  // WHERE: SQLite's parse of INSERT … SELECT … ON CONFLICT
  }
  if (!t.upsert) return sql;
  std::string key, set;
  std::vector<std::string> merged;
  for (const Column& c : t.columns) {
    std::string value = MergedValue(t, c);
    if (c.on_conflict == OnConflict::kKey) {
      key += Cat({key.empty() ? "" : ", ", c.name});
    } else if (c.on_conflict != OnConflict::kKeep) {
      set += Cat({set.empty() ? "" : ", ", c.name, " = ", value});
    }
    merged.push_back(std::move(value));
  }
  if (t.sealed) {
    set += Cat({", row_seq = EXCLUDED.row_seq, row_hash = ",
                SealOf(t, merged, chain_param, d)});
  }
  return Cat({sql, " ON CONFLICT (", key, ") DO UPDATE SET ", set});
}

std::string EndConversationSql(const Dialect& d) {
  const TableSpec& t = TableSpecOf(Table::kConversations);
  std::vector<std::string> after;
  std::string status, ended;
  for (const Column& c : t.columns) {
    std::string_view name = c.name;
    std::string param = name == "status" ? "$2" : name == "ended_at_ms" ? "$3" : "";
    if (param.empty()) {
      after.push_back(Cat({t.name, ".", name}));
      continue;
    }
    if (d.typed) param = d.typed(c.type, param);
    after.push_back(param);
  }
  return Cat({"UPDATE conversations SET status = $2, ended_at_ms = $3, "
              "row_seq = CAST($4 AS BIGINT), row_hash = ",
              SealOf(t, after, "$5", d), " WHERE id = $1"});
}

std::string PostgresTyped(SqlType type, const std::string& expr) {
  switch (type) {
    case SqlType::kInt:
      return Cat({"CAST(", expr, " AS bigint)"});
    case SqlType::kUuid:
      return Cat({"CAST(", expr, " AS uuid)"});
    case SqlType::kText:
      break;
  }
  return Cat({"CAST(", expr, " AS text)"});
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

const std::string& WriteStatements::For(Table t, size_t rows) {
  std::string& sql = sql_[static_cast<size_t>(t)][rows];
  if (sql.empty()) sql = WriteSql(TableSpecOf(t), rows, dialect_);
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
