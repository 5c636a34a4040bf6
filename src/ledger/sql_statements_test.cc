// Unit tests of the ledger's one column list per table (sql_statements.h): the encoders and
// the row seals agree with it, the generated SQL has the shape the write path relies on, and
// the merge of two writes follows the same "not given" rule as the upsert. Behaviour on a
// real engine is the conformance suite's (ledger_conformance_*_test.cc).
#include "ledger/sql_statements.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ledger/row_seal.h"
#include "ledger/sql_codec.h"

namespace clawback::ledger {
namespace {

std::vector<std::string> Names(const TableSpec& t) {
  std::vector<std::string> out;
  for (const Column& c : t.columns) out.push_back(c.name);
  return out;
}

size_t IndexOf(const TableSpec& t, std::string_view name) {
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (name == t.columns[i].name) return i;
  }
  ADD_FAILURE() << "no column " << name << " in " << t.name;
  return 0;
}

TEST(TableSpecs, SealedTablesSealTheSameColumnsInTheSameOrder) {
  for (size_t s = 0; s < kSealedTableCount; ++s) {
    const SealedTableSpec& seal = SpecOf(static_cast<SealedTable>(s));
    bool found = false;
    for (size_t t = 0; t < kTableCount; ++t) {
      const TableSpec& spec = TableSpecOf(static_cast<Table>(t));
      if (std::string_view(spec.name) != seal.name) continue;
      found = true;
      EXPECT_EQ(Names(spec), seal.columns) << seal.name;
      std::vector<std::string> keys;
      for (const Column& c : spec.columns) {
        if (c.on_conflict == OnConflict::kKey) keys.push_back(c.name);
      }
      if (spec.upsert) {
        EXPECT_EQ(keys, seal.key) << seal.name;
      }
    }
    EXPECT_TRUE(found) << seal.name;
  }
}

TEST(TableSpecs, EncodersBindOneValuePerColumn) {
  std::vector<SqlValue> p;
  auto count = [&](auto encode) {
    p.clear();
    encode();
    return p.size();
  };
  auto columns = [](Table t) { return TableSpecOf(t).columns.size(); };
  EXPECT_EQ(count([&] { EncodeConversation(Conversation(), 1, &p); }),
            columns(Table::kConversations));
  EXPECT_EQ(count([&] { EncodeToolCall(ToolCall(), &p); }), columns(Table::kToolCalls));
  EXPECT_EQ(count([&] { EncodeCommand(Command(), &p); }), columns(Table::kCommands));
  EXPECT_EQ(count([&] { EncodeFileChange(FileChange(), &p); }), columns(Table::kFileChanges));
  EXPECT_EQ(count([&] { EncodeCommit(Commit(), &p); }), columns(Table::kCommits));
  EXPECT_EQ(count([&] { EncodeDeployment(Deployment(), &p); }), columns(Table::kDeployments));
  EXPECT_EQ(count([&] { EncodeSnapshot(SnapshotRecord(), &p); }), columns(Table::kSnapshots));
  EXPECT_EQ(count([&] { EncodeBackup(BackupRecord(), &p); }), columns(Table::kBackups));
  EXPECT_EQ(count([&] { EncodeRollback(RollbackRecord(), &p); }), columns(Table::kRollbacks));
  EXPECT_EQ(count([&] { EncodeToken(Token(), 1, &p); }), columns(Table::kTokens));
}

// What an encoder binds for a field left unset counts as not given, for every upserted
// column that has a "not given" value (the initial status included).
TEST(TableSpecs, UnsetFieldsAreNotGiven) {
  std::vector<SqlValue> p;
  EncodeToolCall(ToolCall(), &p);
  const TableSpec& t = TableSpecOf(Table::kToolCalls);
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (t.columns[i].on_conflict != OnConflict::kIfGiven) continue;
    EXPECT_TRUE(NotGiven(t.columns[i], p[i])) << t.columns[i].name;
  }
  p.clear();
  EncodeDeployment(Deployment(), &p);
  const TableSpec& d = TableSpecOf(Table::kDeployments);
  for (size_t i = 0; i < d.columns.size(); ++i) {
    if (d.columns[i].on_conflict != OnConflict::kIfGiven) continue;
    EXPECT_TRUE(NotGiven(d.columns[i], p[i])) << d.columns[i].name;
  }
}

TEST(TableSpecs, NotGivenRule) {
  const TableSpec& t = TableSpecOf(Table::kToolCalls);
  const Column& status = t.columns[IndexOf(t, "status")];
  const Column& params = t.columns[IndexOf(t, "params")];
  const Column& exit_code = t.columns[IndexOf(t, "exit_code")];
  const Column& started = t.columns[IndexOf(t, "started_at_ms")];
  EXPECT_TRUE(NotGiven(status, Null()));
  EXPECT_TRUE(NotGiven(status, Text("started")));
  EXPECT_FALSE(NotGiven(status, Text("ok")));
  EXPECT_TRUE(NotGiven(params, Text("{}")));
  EXPECT_FALSE(NotGiven(params, Text("{\"a\":1}")));
  EXPECT_FALSE(NotGiven(exit_code, Int(0)));  // exit code 0 is a value
  EXPECT_TRUE(NotGiven(started, Int(0)));     // a zero time is not
  EXPECT_FALSE(NotGiven(started, Int(5)));
  const TableSpec& tokens = TableSpecOf(Table::kTokens);
  EXPECT_FALSE(NotGiven(tokens.columns[IndexOf(tokens, "name")], Text("")));
}

TEST(TableSpecs, MergeKeepsEachColumnsLastGivenValue) {
  const TableSpec& t = TableSpecOf(Table::kToolCalls);
  ToolCall start;
  start.conversation_id = *Uuid::Parse("01936f0e-0000-7000-8000-000000000001");
  start.tool_call_id = "call-1";
  start.name = "exec";
  start.params = Json{{"command", "make"}};
  start.started_at_ms = 100;
  ToolCall finish = start;
  finish.name.clear();
  finish.params = Json::object();
  finish.started_at_ms = 0;
  finish.status = "ok";
  finish.exit_code = 0;
  finish.finished_at_ms = 200;
  std::vector<SqlValue> row, next;
  EncodeToolCall(start, &row);
  EncodeToolCall(finish, &next);
  MergeUpsertRow(t, std::move(next), row.data());
  EXPECT_EQ(RowStr(row, IndexOf(t, "name")), "exec");
  EXPECT_EQ(RowStr(row, IndexOf(t, "params")), "{\"command\":\"make\"}");
  EXPECT_EQ(RowInt(row, IndexOf(t, "started_at_ms")), 100);
  EXPECT_EQ(RowStr(row, IndexOf(t, "status")), "ok");
  EXPECT_EQ(RowOptInt(row, IndexOf(t, "exit_code")), std::optional<int64_t>(0));
  EXPECT_EQ(RowInt(row, IndexOf(t, "finished_at_ms")), 200);
  // A late start does not undo the finish.
  next.clear();
  EncodeToolCall(start, &next);
  MergeUpsertRow(t, std::move(next), row.data());
  EXPECT_EQ(RowStr(row, IndexOf(t, "status")), "ok");
  EXPECT_EQ(RowInt(row, IndexOf(t, "finished_at_ms")), 200);
}

Dialect SqliteLike() {
  Dialect d;
  d.seal_expression = &SqliteSealExpression;
  d.migrations = nullptr;
  return d;
}

Dialect PostgresLike() {
  Dialect d;
  d.seal_expression = &PostgresSealExpression;
  d.typed = &PostgresTyped;
  d.migrations = nullptr;
  return d;
}

TEST(TableSpecs, TheSealedTablesAreTheProjections) {
  std::vector<std::string> sealed, projections;
  for (size_t t = 0; t < kTableCount; ++t) {
    const TableSpec& spec = TableSpecOf(static_cast<Table>(t));
    if (spec.sealed) sealed.push_back(spec.name);
  }
  for (size_t s = 0; s < kSealedTableCount; ++s) {
    projections.push_back(SpecOf(static_cast<SealedTable>(s)).name);
  }
  EXPECT_EQ(sealed, projections);
}

TEST(TableSpecs, GeneratedStatements) {
  const Dialect d = SqliteLike();
  const std::string one = WriteSql(TableSpecOf(Table::kCommands), 1, d);
  // The rows as a named VALUES list; the insert stores each with its seal over those values.
  EXPECT_EQ(one.rfind("WITH v (id, conversation_id, argv, cwd, exit_code, started_at_ms, "
                      "duration_ms, tool_call_id) AS (VALUES ($1, $2, COALESCE($3, '[]'), ",
                      0),
            0u)
      << one;
  EXPECT_NE(one.find(") INSERT INTO commands (id, conversation_id, argv, cwd, exit_code, "
                     "started_at_ms, duration_ms, tool_call_id, row_seq, row_hash) SELECT v.id, "
                     "v.conversation_id, "),
            std::string::npos)
      << one;
  EXPECT_NE(one.find("v.tool_call_id, CAST($9 AS BIGINT), clawback_row_seal($10, 'commands', "
                     "(v.id), (v.conversation_id), (v.argv), "),
            std::string::npos)
      << one;
  // An update stores the merged values, and the seal over the same merged values.
  EXPECT_NE(one.find(" FROM v WHERE true ON CONFLICT (id) DO UPDATE SET conversation_id = "
                     "COALESCE(EXCLUDED.conversation_id, commands.conversation_id), "
                     "argv = COALESCE(NULLIF(EXCLUDED.argv, '[]'), commands.argv)"),
            std::string::npos)
      << one;
  EXPECT_NE(one.find(", row_seq = EXCLUDED.row_seq, row_hash = clawback_row_seal($10, "
                     "'commands', (commands.id), (COALESCE(EXCLUDED.conversation_id, "
                     "commands.conversation_id)), (COALESCE(NULLIF(EXCLUDED.argv, '[]'), "
                     "commands.argv)), "),
            std::string::npos)
      << one;
  const std::string two = WriteSql(TableSpecOf(Table::kToolCalls), 2, d);
  EXPECT_NE(two.find("), ($13, $14, "), std::string::npos) << two;
  EXPECT_NE(two.find("COALESCE($24, ''))"), std::string::npos) << two;
  EXPECT_NE(two.find("CAST($25 AS BIGINT), clawback_row_seal($26, 'tool_calls'"),
            std::string::npos)
      << two;
  EXPECT_NE(two.find("ON CONFLICT (conversation_id, tool_call_id)"), std::string::npos);
  // Set-once and overwrite columns.
  const std::string conv = WriteSql(TableSpecOf(Table::kConversations), 1, d);
  EXPECT_EQ(conv.find("started_at_ms = "), std::string::npos) << conv;
  EXPECT_NE(conv.find("status = COALESCE(NULLIF(EXCLUDED.status, 'active'), "
                      "conversations.status)"),
            std::string::npos);
  EXPECT_NE(conv.find("conversations.agent)), (conversations.started_at_ms), "),
            std::string::npos)
      << conv;
  // Tables outside the seals: a plain INSERT (or upsert), no seal, no cast.
  const std::string token = WriteSql(TableSpecOf(Table::kTokens), 1, PostgresLike());
  EXPECT_EQ(token.rfind("INSERT INTO tokens (id, name, role, hash, created_at_ms, revoked) "
                        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) ",
                        0),
            0u)
      << token;
  EXPECT_NE(token.find("DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role, "
                       "hash = EXCLUDED.hash, revoked = EXCLUDED.revoked"),
            std::string::npos)
      << token;
  const std::string events = WriteSql(TableSpecOf(Table::kEvents), 1, PostgresLike());
  EXPECT_EQ(events.rfind("INSERT INTO events (", 0), 0u) << events;
  EXPECT_EQ(events.find("ON CONFLICT"), std::string::npos);
  EXPECT_EQ(events.find("row_hash"), std::string::npos);
  // Insert-only sealed tables: sealed, no ON CONFLICT.
  const std::string fc = WriteSql(TableSpecOf(Table::kFileChanges), 1, d);
  EXPECT_EQ(fc.find("ON CONFLICT"), std::string::npos) << fc;
  EXPECT_NE(fc.find("row_hash) SELECT "), std::string::npos) << fc;
  EXPECT_EQ(SelectList(TableSpecOf(Table::kBackups), "b"),
            "b.id, b.job, b.snapshot_id, b.status, b.started_at_ms, b.finished_at_ms, "
            "b.attributes");
}

// PostgreSQL's seal reads each value as the column stores it, so a sealed write casts its
// parameters to the columns' types.
TEST(TableSpecs, PostgresSealedWritesCastTheirParameters) {
  const std::string sql = WriteSql(TableSpecOf(Table::kToolCalls), 1, PostgresLike());
  EXPECT_EQ(sql.rfind("WITH v (conversation_id, tool_call_id, name, ", 0), 0u) << sql;
  EXPECT_NE(sql.find("AS (VALUES (CAST($1 AS uuid), CAST($2 AS text), "
                     "COALESCE(CAST($3 AS text), ''), "),
            std::string::npos)
      << sql;
  EXPECT_NE(sql.find("CAST($6 AS bigint), "), std::string::npos) << sql;
  EXPECT_NE(sql.find("COALESCE(CAST($8 AS bigint), CAST(0 AS BIGINT))"), std::string::npos)
      << sql;
  EXPECT_NE(sql.find("CAST($13 AS BIGINT), encode(sha256(convert_to('clawback.row.v1' || "
                     "chr(10) || CAST($14 AS TEXT)"),
            std::string::npos)
      << sql;
}

TEST(TableSpecs, EndConversationSealsTheUpdatedRow) {
  EXPECT_EQ(EndConversationSql(SqliteLike()),
            "UPDATE conversations SET status = $2, ended_at_ms = $3, row_seq = CAST($4 AS BIGINT), "
            "row_hash = clawback_row_seal($5, 'conversations', (conversations.id), "
            "(conversations.source), (conversations.title), (conversations.agent), "
            "(conversations.started_at_ms), ($3), ($2), (conversations.previous_id), "
            "(conversations.attributes)) WHERE id = $1");
  const std::string pg = EndConversationSql(PostgresLike());
  EXPECT_NE(pg.find("CAST($3 AS bigint)"), std::string::npos) << pg;
  EXPECT_NE(pg.find("CAST($2 AS text)"), std::string::npos) << pg;
}

}  // namespace
}  // namespace clawback::ledger
