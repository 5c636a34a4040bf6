// Ledger conformance: The hash chain and the row seals: what verify checks and catches.
// One of the suite's themed files (ledger_conformance.h has the fixture and how each backend
// runs it); every test runs on SQLite and on PostgreSQL.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ledger/ledger_conformance.h"

namespace clawback::ledger {
namespace {

TEST_F(LedgerConformance, LongRunsOfEventsAreChainedAcrossInserts) {
  // Runs longer than one multi-row INSERT, split by other ops, in one group.
  Conversation c = NewConversation(1000);
  WriteBatch b1, b2;
  b1.Add(c);
  for (int i = 0; i < 150; ++i) b1.Add(NewEvent(c, 2000 + i));
  ToolCall tc;
  tc.conversation_id = c.id;
  tc.tool_call_id = "t1";
  b1.Add(tc);
  for (int i = 0; i < 70; ++i) b1.Add(NewEvent(c, 3000 + i));
  for (int i = 0; i < 65; ++i) b2.Add(NewEvent(c, 4000 + i));
  auto results = ledger_->ApplyGroup({&b1, &b2});
  ASSERT_TRUE(results[0].ok()) << results[0].ToString();
  ASSERT_TRUE(results[1].ok()) << results[1].ToString();
  auto trace = ledger_->GetTrace(c.id);
  ASSERT_TRUE(trace.ok());
  ASSERT_EQ(trace->events.size(), 285u);
  for (size_t i = 0; i < trace->events.size(); ++i) {
    EXPECT_EQ(trace->events[i].seq, static_cast<int64_t>(i) + 1);
  }
  auto report = ledger_->VerifyChain();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->rows_checked, 285);

  // A bad event deep in a long run fails the whole batch, names a conversation, and leaves
  // nothing behind.
  WriteBatch bad;
  for (int i = 0; i < 100; ++i) bad.Add(NewEvent(c, 5000 + i));
  Event orphan = NewEvent(c, 6000);
  Uuid ghost = ids_.Next();
  orphan.conversation_id = ghost;
  bad.Add(orphan);
  Status st = ledger_->Apply(bad);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find(ghost.ToString()), std::string::npos) << st.ToString();
  EXPECT_EQ(ledger_->Stats()->events, 285);
  ApplyOk({{NewEvent(c, 7000)}});
  report = ledger_->VerifyChain();
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->rows_checked, 286);
}

TEST_F(LedgerConformance, ChainHashesMatchTheSharedDefinition) {
  // Fixed ids and times: both backends must store exactly these hashes.
  Conversation c;
  c.id = *Uuid::Parse("01936f0e-0000-7000-8000-000000000001");
  c.started_at_ms = 1;
  WriteBatch b;
  b.Add(c);
  std::vector<Event> written;
  for (int i = 0; i < 3; ++i) {
    Event e;
    e.id = *Uuid::Parse("01936f0e-0000-7000-8000-00000000010" + std::to_string(i));
    e.conversation_id = c.id;
    e.kind = "k";
    e.time_ms = 10 + i;
    e.attributes = Json{{"i", i}};
    b.Add(e);
    written.push_back(e);
  }
  Event no_conv = written[0];
  no_conv.id = *Uuid::Parse("01936f0e-0000-7000-8000-000000000200");
  no_conv.conversation_id.reset();
  b.Add(no_conv);
  ApplyOk(b);
  auto trace = ledger_->GetTrace(c.id);
  ASSERT_TRUE(trace.ok());
  ASSERT_EQ(trace->events.size(), 3u);
  std::string prev;
  for (size_t i = 0; i < 3; ++i) {
    Event e = written[i];
    e.seq = static_cast<int64_t>(i) + 1;
    EXPECT_EQ(trace->events[i].seq, e.seq);
    EXPECT_EQ(trace->events[i].prev_hash, prev);
    EXPECT_EQ(trace->events[i].hash, ChainHash(prev, e));
    prev = trace->events[i].hash;
  }
  EXPECT_EQ(trace->events[0].hash,
            ChainHash("", [&] {
              Event e = written[0];
              e.seq = 1;
              return e;
            }()));
  auto report = ledger_->VerifyChain();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok);
  EXPECT_EQ(report->rows_checked, 4);
}

TEST_F(LedgerConformance, VerifyChainNamesTheTamperedRow) {
  Conversation c = NewConversation(1000);
  WriteBatch b;
  b.Add(c);
  for (int i = 0; i < 6; ++i) b.Add(NewEvent(c, 1100 + i));
  ApplyOk(b);
  auto report = ledger_->VerifyChain();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok);
  EXPECT_EQ(report->rows_checked, 6);
  EXPECT_FALSE(report->first_bad_seq.has_value());

  RawExec("UPDATE events SET attributes = '{\"n\":1.5,\"t\":1103,\"text\":\"edited\"}' WHERE seq = 4");
  report = ledger_->VerifyChain();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 4);
  EXPECT_EQ(report->rows_checked, 4);
  EXPECT_NE(report->problem.find("hash"), std::string::npos) << report->problem;
}

TEST_F(LedgerConformance, VerifyChainNoticesADeletedRow) {
  Conversation c = NewConversation(1000);
  WriteBatch b;
  b.Add(c);
  for (int i = 0; i < 5; ++i) b.Add(NewEvent(c, 1100 + i));
  ApplyOk(b);
  RawExec("DELETE FROM events WHERE seq = 2");
  auto report = ledger_->VerifyChain();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 3);
  // A rewritten hash (content and hash edited together) breaks the next row's link.
  RawExec("INSERT INTO events (seq, id, conversation_id, kind, time_ms, actor, attributes, "
          "prev_hash, hash) SELECT 2, '01936f0e-0000-7000-8000-0000000000ff', conversation_id, "
          "kind, time_ms, actor, attributes, prev_hash, 'forged' FROM events WHERE seq = 1");
  report = ledger_->VerifyChain();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 2);
}

// One row in every projection table, written both ways (one op at a time, and a group
// through the multi-row upserts).
void WriteEveryProjection(Ledger* ledger, UuidV7Generator* ids, const Conversation& c) {
  WriteBatch b;
  ToolCall call;
  call.conversation_id = c.id;
  call.tool_call_id = "call-1";
  call.name = "exec";
  call.params = Json{{"command", "make deploy"}};
  b.Add(call);
  Command cmd;
  cmd.id = ids->Next();
  cmd.conversation_id = c.id;
  cmd.argv = {"make", "deploy"};
  cmd.cwd = "/srv/app";
  cmd.started_at_ms = 1200;
  b.Add(cmd);
  FileChange fc;
  fc.id = ids->Next();
  fc.conversation_id = c.id;
  fc.path = "/etc/app.conf";
  fc.change = "modified";
  fc.time_ms = 1300;
  b.Add(fc);
  Commit commit;
  commit.sha = "0123456789abcdef0123456789abcdef01234567";
  commit.conversation_id = c.id;
  commit.message = "tune the pool";
  commit.time_ms = 1400;
  b.Add(commit);
  Deployment dep;
  dep.id = ids->Next();
  dep.conversation_id = c.id;
  dep.environment = "prod";
  dep.started_at_ms = 1500;
  b.Add(dep);
  SnapshotRecord snap;
  snap.snapshot_id = "abcdef";
  snap.conversation_id = c.id;
  snap.reason = "pre";
  snap.time_ms = 1600;
  b.Add(snap);
  BackupRecord backup;
  backup.id = ids->Next();
  backup.job = "backup";
  backup.started_at_ms = 1700;
  b.Add(backup);
  RollbackRecord rb;
  rb.id = ids->Next();
  rb.conversation_id = c.id;
  rb.target_kind = "deployment";
  rb.target = dep.id.ToString();
  rb.started_at_ms = 1800;
  b.Add(rb);
  Event e;
  e.id = ids->Next();
  e.conversation_id = c.id;
  e.kind = "note";
  e.time_ms = 1900;
  b.Add(e);
  ASSERT_TRUE(ledger->Apply(b).ok());
  // A later write of some of them, in a group (the multi-row path), after more events.
  WriteBatch later;
  call.status = "ok";
  call.exit_code = 0;
  call.finished_at_ms = 2000;
  call.params = Json::object();
  later.Add(call);
  cmd.exit_code = 0;
  later.Add(cmd);
  EndConversation end;
  end.id = c.id;
  end.ended_at_ms = 2100;
  later.Add(end);
  std::vector<const WriteBatch*> group = {&later};
  auto results = ledger->ApplyGroup(group);
  ASSERT_TRUE(results[0].ok()) << results[0].ToString();
}

TEST_F(LedgerConformance, VerifyNamesAHandEditedProjectionRow) {
  Conversation c = NewConversation(1000);
  ApplyOk({{c, NewEvent(c, 1100)}});
  WriteEveryProjection(ledger_.get(), &ids_, c);
  ASSERT_FALSE(HasFatalFailure());
  auto report = ledger_->VerifyChain();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->table << " " << report->row << ": " << report->problem;
  EXPECT_EQ(report->projection_rows_checked, 9);

  // Each table in turn: one column edited by hand fails verify naming that table and row;
  // putting the value back passes again.
  const std::vector<std::pair<std::string, std::string>> edits = {
      {"conversations", "title"},   {"tool_calls", "params"}, {"commands", "cwd"},
      {"file_changes", "path"},     {"commits", "message"},   {"deployments", "environment"},
      {"snapshots", "reason"},      {"backups", "job"},       {"rollbacks", "target"}};
  for (const auto& [table, column] : edits) {
    SCOPED_TRACE(table);
    RawExec("UPDATE " + table + " SET " + column + " = " + column + " || 'x'");
    report = ledger_->VerifyChain();
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_FALSE(report->ok);
    EXPECT_EQ(report->table, table);
    EXPECT_FALSE(report->row.empty());
    EXPECT_NE(report->problem.find("seal"), std::string::npos) << report->problem;
    RawExec("UPDATE " + table + " SET " + column + " = substr(" + column + ", 1, length(" +
            column + ") - 1)");
    report = ledger_->VerifyChain();
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok) << report->table << " " << report->row << ": " << report->problem;
  }
  // The key names the row.
  RawExec("UPDATE commands SET exit_code = 3");
  report = ledger_->VerifyChain();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->table, "commands");
  EXPECT_EQ(report->row.rfind("id=", 0), 0u) << report->row;
  // A seal removed, or a row added by hand, is named too.
  RawExec("UPDATE commands SET exit_code = 0");
  RawExec("UPDATE deployments SET row_hash = NULL");
  report = ledger_->VerifyChain();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->table, "deployments");
  EXPECT_NE(report->problem.find("no seal"), std::string::npos) << report->problem;
}

// Each write stores its row's seal, so a row's seal is that of the write that stands: a row
// written twice in one transaction (by two requests of a group, or by an upsert and an
// EndConversation) carries its last write's seal, and a rewrite by a request that then fails
// (rolled back to its savepoint) leaves the earlier write and its seal in place.
TEST_F(LedgerConformance, EachRowCarriesTheSealOfTheWriteThatStands) {
  Conversation c = NewConversation(1000);
  ApplyOk({{c, NewEvent(c, 1100)}});
  ToolCall start;
  start.conversation_id = c.id;
  start.tool_call_id = "call-1";
  start.name = "exec";
  start.started_at_ms = 1200;
  Command cmd;
  cmd.id = ids_.Next();
  cmd.conversation_id = c.id;
  cmd.argv = {"make"};
  cmd.started_at_ms = 1200;
  WriteBatch good;
  good.Add(start);
  good.Add(cmd);
  good.Add(NewEvent(c, 1200));
  ToolCall finish = start;
  finish.status = "ok";
  finish.exit_code = 0;
  finish.finished_at_ms = 1300;
  WriteBatch bad;  // rewrites the tool call, then fails
  bad.Add(finish);
  bad.Add(NewEvent(c, 1300));
  Event orphan = NewEvent(c, 1301);
  orphan.conversation_id = ids_.Next();
  bad.Add(orphan);
  Command done = cmd;
  done.exit_code = 2;
  Conversation renamed = c;
  renamed.title = "fix the build, again";
  WriteBatch again;  // the command and the conversation a second time in the transaction
  again.Add(done);
  again.Add(renamed);
  again.Add(EndConversation{c.id, "ended", 1400});
  again.Add(NewEvent(c, 1400));
  auto results = ledger_->ApplyGroup({&good, &bad, &again});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_OK(results[0]);
  EXPECT_EQ(results[1].code(), StatusCode::kNotFound) << results[1].ToString();
  EXPECT_OK(results[2]);
  auto trace = ledger_->GetTrace(c.id);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_EQ(trace->tool_calls.size(), 1u);
  EXPECT_EQ(trace->tool_calls[0].status, "started");
  ASSERT_EQ(trace->commands.size(), 1u);
  EXPECT_EQ(trace->commands[0].exit_code, std::optional<int>(2));
  EXPECT_EQ(trace->conversation.title, "fix the build, again");
  EXPECT_EQ(trace->conversation.status, "ended");
  auto report = ledger_->VerifyChain();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->table << " " << report->row << ": " << report->problem;
  EXPECT_EQ(report->rows_checked, 3);
  EXPECT_EQ(report->projection_rows_checked, 3);

  // The same writes in one transaction that succeeds whole (the multi-row path).
  WriteBatch later;
  later.Add(finish);
  done.exit_code = 0;
  later.Add(done);
  later.Add(finish);
  results = ledger_->ApplyGroup({&later});
  EXPECT_OK(results[0]);
  report = ledger_->VerifyChain();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->table << " " << report->row << ": " << report->problem;
  // And a hand edit of a row last written by an upsert's update is still caught.
  RawExec("UPDATE tool_calls SET status = 'error'");
  report = ledger_->VerifyChain();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->table, "tool_calls");
  EXPECT_NE(report->row.find("call-1"), std::string::npos) << report->row;
}

TEST_F(LedgerConformance, MigratingToRowSealsSealsTheRowsAlreadyThere) {
  Conversation c = NewConversation(1000);
  ApplyOk({{c, NewEvent(c, 1100)}});
  WriteEveryProjection(ledger_.get(), &ids_, c);
  ASSERT_FALSE(HasFatalFailure());
  // Back to schema version 3: no seal columns, no follower tables (version 5).
  RawExec("DROP TABLE cursors");
  RawExec("DROP TABLE leases");
  for (const char* table : {"conversations", "tool_calls", "commands", "file_changes", "commits",
                            "deployments", "snapshots", "backups", "rollbacks"}) {
    RawExec(std::string("ALTER TABLE ") + table + " DROP COLUMN row_seq");
    RawExec(std::string("ALTER TABLE ") + table + " DROP COLUMN row_hash");
  }
  RawExec("DELETE FROM schema_migrations WHERE version >= 4");
  ledger_.reset();
  auto reopened = OpenLedger(harness_.url, clock_);
  ASSERT_TRUE(reopened.ok());
  ledger_ = std::move(reopened).value();
  ASSERT_EQ(*ledger_->SchemaVersion(), 3);
  Status st = ledger_->Migrate();
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto report = ledger_->VerifyChain();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->table << " " << report->row << ": " << report->problem;
  EXPECT_EQ(report->projection_rows_checked, 9);
}

}  // namespace
}  // namespace clawback::ledger
