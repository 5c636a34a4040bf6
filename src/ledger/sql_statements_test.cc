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

TEST(TableSpecs, GeneratedStatements) {
  const std::string one = WriteOneSql(Table::kCommands);
  EXPECT_EQ(one.rfind("INSERT INTO commands (id, conversation_id, argv, cwd, exit_code, "
                      "started_at_ms, duration_ms, tool_call_id) VALUES ($1, $2, ",
                      0),
            0u)
      << one;
  EXPECT_NE(one.find(" ON CONFLICT (id) DO UPDATE SET conversation_id = "
                     "COALESCE(EXCLUDED.conversation_id, commands.conversation_id), "
                     "argv = COALESCE(NULLIF(EXCLUDED.argv, '[]'), commands.argv)"),
            std::string::npos)
      << one;
  const std::string two = WriteSql(TableSpecOf(Table::kToolCalls), 2);
  EXPECT_NE(two.find("), ($13, $14, "), std::string::npos) << two;
  EXPECT_NE(two.find("COALESCE($24, ''))"), std::string::npos) << two;
  EXPECT_NE(two.find("ON CONFLICT (conversation_id, tool_call_id)"), std::string::npos);
  // Set-once and overwrite columns.
  const std::string conv = WriteOneSql(Table::kConversations);
  EXPECT_EQ(conv.find("started_at_ms = "), std::string::npos) << conv;
  EXPECT_NE(conv.find("status = COALESCE(NULLIF(EXCLUDED.status, 'active'), "
                      "conversations.status)"),
            std::string::npos);
  const std::string token = WriteOneSql(Table::kTokens);
  EXPECT_NE(token.find("DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role, "
                       "hash = EXCLUDED.hash, revoked = EXCLUDED.revoked"),
            std::string::npos)
      << token;
  // Insert-only tables have no ON CONFLICT.
  EXPECT_EQ(WriteOneSql(Table::kEvents).find("ON CONFLICT"), std::string::npos);
  EXPECT_EQ(WriteOneSql(Table::kFileChanges).find("ON CONFLICT"), std::string::npos);
  EXPECT_EQ(SelectList(TableSpecOf(Table::kBackups), "b"),
            "b.id, b.job, b.snapshot_id, b.status, b.started_at_ms, b.finished_at_ms, "
            "b.attributes");
}

}  // namespace
}  // namespace clawback::ledger
