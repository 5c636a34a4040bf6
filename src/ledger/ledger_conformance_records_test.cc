// Ledger conformance: Records: each kind written, upserted and read back.
// One of the suite's themed files (ledger_conformance.h has the fixture and how each backend
// runs it); every test runs on SQLite and on PostgreSQL.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "ledger/ledger_conformance.h"

namespace clawback::ledger {
namespace {

TEST_F(LedgerConformance, ConversationCreateGetAndUpsert) {
  Conversation c = NewConversation(1000);
  c.external_ids = {{"openclaw.session_key", "agent:main:main"},
                    {"openclaw.session_id", "s-1"}};
  c.attributes = Json{{"channel", "telegram"}};
  ApplyOk({{c}});
  auto got = ledger_->GetConversation(c.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->id, c.id);
  EXPECT_EQ(got->source, "openclaw");
  EXPECT_EQ(got->title, "fix the build");
  EXPECT_EQ(got->agent, "main");
  EXPECT_EQ(got->started_at_ms, 1000);
  EXPECT_EQ(got->status, "active");
  EXPECT_FALSE(got->ended_at_ms.has_value());
  EXPECT_EQ(got->attributes, c.attributes);
  ASSERT_EQ(got->external_ids.size(), 2u);
  EXPECT_EQ(got->external_ids[0], (ExternalId{"openclaw.session_id", "s-1"}));

  // A later upsert overwrites what it gives and keeps what it leaves unset.
  Conversation update;
  update.id = c.id;
  update.title = "fix the build, then deploy";
  update.external_ids = {{"openclaw.run_id", "r-9"}};
  ApplyOk({{update}});
  got = ledger_->GetConversation(c.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->title, "fix the build, then deploy");
  EXPECT_EQ(got->agent, "main");
  EXPECT_EQ(got->started_at_ms, 1000);
  EXPECT_EQ(got->attributes, c.attributes);
  EXPECT_EQ(got->external_ids.size(), 3u);

  ApplyOk({{EndConversation{c.id, "ended", 5000}}});
  got = ledger_->GetConversation(c.id);
  EXPECT_EQ(got->status, "ended");
  EXPECT_EQ(got->ended_at_ms, 5000);
  // A late upsert without a status does not revive it.
  ApplyOk({{update}});
  EXPECT_EQ(ledger_->GetConversation(c.id)->status, "ended");

  EXPECT_EQ(ledger_->GetConversation(ids_.Next()).status().code(), StatusCode::kNotFound);
  Status st = ledger_->Apply({{EndConversation{ids_.Next(), "ended", 1}}});
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
}

TEST_F(LedgerConformance, FindByExternalIdMostRecentWins) {
  Conversation older = NewConversation(1000);
  older.external_ids = {{"openclaw.session_key", "agent:main:main"}};
  Conversation newer = NewConversation(2000);
  newer.previous_id = older.id;
  ApplyOk({{newer, older}});
  ApplyOk({{AddExternalId{newer.id, {"openclaw.session_key", "agent:main:main"}}}});
  auto found = ledger_->FindConversationByExternal("openclaw.session_key", "agent:main:main");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, newer.id);
  EXPECT_EQ((*found)->previous_id, older.id);
  auto none = ledger_->FindConversationByExternal("openclaw.session_key", "nope");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  // An external id for a conversation that does not exist fails and names it.
  Uuid ghost = ids_.Next();
  Status st = ledger_->Apply({{AddExternalId{ghost, {"k", "v"}}}});
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find(ghost.ToString()), std::string::npos) << st.ToString();
}

TEST_F(LedgerConformance, ListConversationsFilters) {
  Conversation a = NewConversation(1000, "Deploy web");
  Conversation b = NewConversation(2000, "rotate logs");
  b.external_ids = {{"openclaw.session_key", "agent:ops:cron_50%"}};
  Conversation c = NewConversation(3000, "deploy API");
  ApplyOk({{a, b, c, EndConversation{b.id, "failed", 2500}}});

  auto all = ledger_->ListConversations({});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, c.id);  // newest first
  EXPECT_EQ((*all)[2].id, a.id);

  ConversationFilter f;
  f.since_ms = 2000;
  EXPECT_EQ(ledger_->ListConversations(f)->size(), 2u);
  f = {};
  f.until_ms = 2000;
  ASSERT_EQ(ledger_->ListConversations(f)->size(), 1u);
  EXPECT_EQ((*ledger_->ListConversations(f))[0].id, a.id);
  f = {};
  f.status = "failed";
  ASSERT_EQ(ledger_->ListConversations(f)->size(), 1u);
  f = {};
  f.query = "DEPLOY";  // case-insensitive substring of the title
  EXPECT_EQ(ledger_->ListConversations(f)->size(), 2u);
  f.query = "cron_50%";  // an external id; % and _ are literal
  auto by_ext = ledger_->ListConversations(f);
  ASSERT_EQ(by_ext->size(), 1u);
  EXPECT_EQ((*by_ext)[0].id, b.id);
  EXPECT_EQ((*by_ext)[0].external_ids.size(), 1u);
  f.query = "n_50";
  EXPECT_EQ(ledger_->ListConversations(f)->size(), 1u);
  f.query = "x_50";
  EXPECT_EQ(ledger_->ListConversations(f)->size(), 0u);
  f = {};
  f.limit = 2;
  EXPECT_EQ(ledger_->ListConversations(f)->size(), 2u);
}

TEST_F(LedgerConformance, ToolCallUpsertStartThenFinish) {
  Conversation c = NewConversation(1000);
  ToolCall start;
  start.conversation_id = c.id;
  start.tool_call_id = "call_1";
  start.name = "exec";
  start.params = Json{{"command", "make test"}};
  start.started_at_ms = 1100;
  start.run_id = "run-1";
  ApplyOk({{c, start}});

  ToolCall finish;
  finish.conversation_id = c.id;
  finish.tool_call_id = "call_1";
  finish.status = "ok";
  finish.exit_code = 0;
  finish.duration_ms = 250;
  finish.finished_at_ms = 1350;
  finish.result = Json{{"stdout", "ok"}};
  ApplyOk({{finish}});

  auto trace = ledger_->GetTrace(c.id);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_EQ(trace->tool_calls.size(), 1u);
  const ToolCall& t = trace->tool_calls[0];
  EXPECT_EQ(t.name, "exec");
  EXPECT_EQ(t.params, start.params);
  EXPECT_EQ(t.status, "ok");
  EXPECT_EQ(t.exit_code, 0);
  EXPECT_EQ(t.duration_ms, 250);
  EXPECT_EQ(t.started_at_ms, 1100);
  EXPECT_EQ(t.finished_at_ms, 1350);
  EXPECT_EQ(t.result, finish.result);
  EXPECT_EQ(t.run_id, "run-1");

  // Out of order: the finish arrives first; the late start does not undo it.
  ToolCall f2 = finish;
  f2.tool_call_id = "call_2";
  f2.status = "error";
  f2.error = "exit 2";
  ToolCall s2 = start;
  s2.tool_call_id = "call_2";
  s2.started_at_ms = 1200;
  ApplyOk({{f2}});
  ApplyOk({{s2}});
  trace = ledger_->GetTrace(c.id);
  ASSERT_EQ(trace->tool_calls.size(), 2u);
  EXPECT_EQ(trace->tool_calls[1].tool_call_id, "call_2");
  EXPECT_EQ(trace->tool_calls[1].status, "error");
  EXPECT_EQ(trace->tool_calls[1].error, "exit 2");
  EXPECT_EQ(trace->tool_calls[1].name, "exec");

  ToolCall orphan = start;
  orphan.conversation_id = ids_.Next();
  EXPECT_EQ(ledger_->Apply({{orphan}}).code(), StatusCode::kNotFound);
  // Also in a request whose other ops are fine, and for a command; nothing of it lands.
  Command orphan_cmd;
  orphan_cmd.id = ids_.Next();
  orphan_cmd.conversation_id = orphan.conversation_id;
  WriteBatch mixed;
  mixed.Add(s2);
  mixed.Add(orphan_cmd);
  Status st = ledger_->Apply(mixed);
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
  EXPECT_NE(st.message().find(orphan.conversation_id.ToString()), std::string::npos) << st.ToString();
  EXPECT_TRUE(ledger_->GetTrace(c.id)->commands.empty());
}

TEST_F(LedgerConformance, GroupCommitIsolatesAFailingBatch) {
  Conversation c = NewConversation(1000);
  ApplyOk({{c}});
  WriteBatch good1, bad, good2, empty;
  good1.Add(NewEvent(c, 1100));
  good1.Add(NewEvent(c, 1101));
  Event lost = NewEvent(c, 1200, "must.not.land");
  bad.Add(lost);
  Event orphan = NewEvent(c, 1201);
  orphan.conversation_id = ids_.Next();  // no such conversation: the batch fails here
  bad.Add(orphan);
  good2.Add(NewEvent(c, 1300));
  ToolCall tc;
  tc.conversation_id = c.id;
  tc.tool_call_id = "t";
  tc.name = "read";
  good2.Add(tc);

  auto results = ledger_->ApplyGroup({&good1, &bad, &empty, &good2});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_EQ(results[1].code(), StatusCode::kNotFound) << results[1].ToString();
  EXPECT_TRUE(results[2].ok());
  EXPECT_TRUE(results[3].ok()) << results[3].ToString();

  auto trace = ledger_->GetTrace(c.id);
  ASSERT_TRUE(trace.ok());
  ASSERT_EQ(trace->events.size(), 3u);
  for (const Event& e : trace->events) EXPECT_NE(e.kind, "must.not.land");
  EXPECT_EQ(trace->tool_calls.size(), 1u);
  // The chain has no gap where the failed batch was.
  EXPECT_EQ(trace->events[0].seq + 1, trace->events[1].seq);
  EXPECT_EQ(trace->events[1].seq + 1, trace->events[2].seq);
  EXPECT_EQ(trace->events[2].prev_hash, trace->events[1].hash);
  auto report = ledger_->VerifyChain();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->rows_checked, 3);

  // A duplicate event id fails its batch with AlreadyExists.
  WriteBatch dup;
  dup.Add(trace->events[0]);
  EXPECT_EQ(ledger_->Apply(dup).code(), StatusCode::kAlreadyExists);
  WriteBatch invalid;
  Event no_kind = NewEvent(c, 1);
  no_kind.kind.clear();
  invalid.Add(no_kind);
  EXPECT_EQ(ledger_->Apply(invalid).code(), StatusCode::kInvalidArgument);
}

TEST_F(LedgerConformance, TraceHoldsTheWholeChainInTimeOrder) {
  Conversation c = NewConversation(1000);
  Conversation other = NewConversation(1000, "unrelated");
  WriteBatch b;
  b.Add(c);
  b.Add(other);
  b.Add(NewEvent(c, 1300));
  b.Add(NewEvent(c, 1100));
  b.Add(NewEvent(other, 1150));
  b.Add(NewEvent(c, 1200));
  Command cmd;
  cmd.id = ids_.Next();
  cmd.conversation_id = c.id;
  cmd.argv = {"git", "commit", "-m", "fix"};
  cmd.cwd = "/srv/app";
  cmd.started_at_ms = 1210;
  cmd.tool_call_id = "call_1";
  b.Add(cmd);
  FileChange fc;
  fc.id = ids_.Next();
  fc.conversation_id = c.id;
  fc.path = "/srv/app/main.go";
  fc.change = "modified";
  fc.time_ms = 1205;
  b.Add(fc);
  Commit commit;
  commit.sha = "0123456789abcdef0123456789abcdef01234567";
  commit.conversation_id = c.id;
  commit.repo = "/srv/app";
  commit.branch = "main";
  commit.message = "fix";
  commit.author = "agent";
  commit.files = {"main.go"};
  commit.trailer = c.id.ToString();
  commit.time_ms = 1220;
  b.Add(commit);
  Deployment d;
  d.id = ids_.Next();
  d.conversation_id = c.id;
  d.environment = "prod";
  d.commit_sha = commit.sha;
  d.started_at_ms = 1230;
  b.Add(d);
  SnapshotRecord snap;
  snap.snapshot_id = "aa11";
  snap.conversation_id = c.id;
  snap.repository = "/var/lib/clawback/repo";
  snap.reason = "pre";
  snap.paths = {"/srv/app"};
  snap.tags = {"conversation=" + c.id.ToString(), "reason=pre"};
  snap.time_ms = 1050;
  snap.stats = Json{{"files", 3}};
  b.Add(snap);
  BackupRecord backup;
  backup.id = ids_.Next();
  backup.job = "copy";
  backup.snapshot_id = "aa11";
  backup.started_at_ms = 1400;
  b.Add(backup);
  RollbackRecord rb;
  rb.id = ids_.Next();
  rb.target_kind = "conversation";
  rb.target = c.id.ToString();
  rb.mode = "exact";
  rb.started_at_ms = 1500;
  rb.plan = Json{{"paths", {"/srv/app"}}};
  b.Add(rb);
  ApplyOk(b);
  // The deployment finishes later; the command reports its exit code.
  Deployment done;
  done.id = d.id;
  done.status = "succeeded";
  done.finished_at_ms = 1290;
  Command cmd_done;
  cmd_done.id = cmd.id;
  cmd_done.exit_code = 0;
  cmd_done.duration_ms = 40;
  ApplyOk({{done, cmd_done}});

  auto trace = ledger_->GetTrace(c.id);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->conversation.id, c.id);
  ASSERT_EQ(trace->events.size(), 3u);
  EXPECT_EQ(trace->events[0].time_ms, 1100);
  EXPECT_EQ(trace->events[1].time_ms, 1200);
  EXPECT_EQ(trace->events[2].time_ms, 1300);
  EXPECT_EQ(trace->events[0].attributes, (Json{{"t", 1100}, {"text", "héllo"}, {"n", 1.5}}));
  EXPECT_EQ(trace->events[0].actor, "openclaw:main");
  ASSERT_EQ(trace->commands.size(), 1u);
  EXPECT_EQ(trace->commands[0].argv, cmd.argv);
  EXPECT_EQ(trace->commands[0].cwd, "/srv/app");
  EXPECT_EQ(trace->commands[0].exit_code, 0);
  EXPECT_EQ(trace->commands[0].duration_ms, 40);
  EXPECT_EQ(trace->commands[0].tool_call_id, "call_1");
  ASSERT_EQ(trace->file_changes.size(), 1u);
  EXPECT_EQ(trace->file_changes[0].path, fc.path);
  ASSERT_EQ(trace->commits.size(), 1u);
  EXPECT_EQ(trace->commits[0].files, commit.files);
  EXPECT_EQ(trace->commits[0].trailer, commit.trailer);
  ASSERT_EQ(trace->deployments.size(), 1u);
  EXPECT_EQ(trace->deployments[0].status, "succeeded");
  EXPECT_EQ(trace->deployments[0].environment, "prod");
  ASSERT_EQ(trace->snapshots.size(), 1u);
  EXPECT_EQ(trace->snapshots[0].tags, snap.tags);
  EXPECT_EQ(trace->snapshots[0].stats, snap.stats);
  ASSERT_EQ(trace->backups.size(), 1u);
  EXPECT_EQ(trace->backups[0].job, "copy");
  EXPECT_EQ(trace->backups[0].status, "running");
  ASSERT_EQ(trace->rollbacks.size(), 1u);
  EXPECT_EQ(trace->rollbacks[0].plan, rb.plan);

  auto dep = ledger_->GetDeployment(d.id);
  ASSERT_TRUE(dep.ok());
  EXPECT_EQ(dep->commit_sha, commit.sha);
  EXPECT_EQ(dep->finished_at_ms, 1290);
  EXPECT_EQ(ledger_->GetDeployment(ids_.Next()).status().code(), StatusCode::kNotFound);
  auto got_commit = ledger_->GetCommit(commit.sha);
  ASSERT_TRUE(got_commit.ok() && got_commit->has_value());
  EXPECT_EQ((*got_commit)->conversation_id, c.id);
  EXPECT_FALSE(ledger_->GetCommit("ffff")->has_value());
  EXPECT_EQ(ledger_->GetTrace(ids_.Next()).status().code(), StatusCode::kNotFound);
}

TEST_F(LedgerConformance, ListDeploymentsAndRollbacksFor) {
  Conversation c = NewConversation(900);
  WriteBatch b;
  b.Add(c);
  std::vector<Uuid> ids;
  for (int i = 0; i < 3; ++i) {
    Deployment d;
    d.id = ids_.Next();
    d.conversation_id = c.id;
    d.environment = i == 1 ? "staging" : "prod";
    d.started_at_ms = 1000 + i * 100;
    b.Add(d);
    ids.push_back(d.id);
  }
  RollbackRecord rb;
  rb.id = ids_.Next();
  rb.target_kind = "deployment";
  rb.target = ids[0].ToString();
  rb.mode = "exact";
  rb.status = "succeeded";
  rb.started_at_ms = 1500;
  b.Add(rb);
  ApplyOk(b);

  auto all = ledger_->ListDeployments({});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, ids[2]);  // newest first
  DeploymentFilter f;
  f.environment = "prod";
  f.since_ms = 1000;
  f.until_ms = 1200;
  auto prod = ledger_->ListDeployments(f);
  ASSERT_TRUE(prod.ok());
  ASSERT_EQ(prod->size(), 1u);
  EXPECT_EQ((*prod)[0].id, ids[0]);

  auto rbs = ledger_->ListRollbacksFor("deployment", ids[0].ToString());
  ASSERT_TRUE(rbs.ok());
  ASSERT_EQ(rbs->size(), 1u);
  EXPECT_EQ((*rbs)[0].id, rb.id);
  EXPECT_EQ((*rbs)[0].status, "succeeded");
  EXPECT_TRUE(ledger_->ListRollbacksFor("deployment", ids[1].ToString())->empty());
}

TEST_F(LedgerConformance, Tokens) {
  EXPECT_EQ(*ledger_->CountTokens(), 0);
  Token t;
  t.id = ids_.Next();
  t.name = "openclaw-gateway";
  t.role = Role::kIngest;
  t.hash = std::string(64, 'a');
  t.created_at_ms = 42;
  ApplyOk({{t}});
  auto found = ledger_->FindTokenByHash(t.hash);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, t.id);
  EXPECT_EQ((*found)->name, "openclaw-gateway");
  EXPECT_EQ((*found)->role, Role::kIngest);
  EXPECT_EQ((*found)->created_at_ms, 42);
  EXPECT_FALSE((*found)->revoked);
  EXPECT_FALSE(ledger_->FindTokenByHash(std::string(64, 'b'))->has_value());
  EXPECT_EQ(*ledger_->CountTokens(), 1);

  Token same_hash = t;
  same_hash.id = ids_.Next();
  EXPECT_EQ(ledger_->Apply({{same_hash}}).code(), StatusCode::kAlreadyExists);

  // Last use: set once, then not again within a minute, then again after it; a revoke
  // (the Token write op) keeps it.
  EXPECT_FALSE((*ledger_->FindTokenByHash(t.hash))->last_used_at_ms.has_value());
  EXPECT_TRUE(*ledger_->TouchToken(t.id, 100000));
  EXPECT_FALSE(*ledger_->TouchToken(t.id, 159999));
  EXPECT_EQ((*ledger_->FindTokenByHash(t.hash))->last_used_at_ms, 100000);
  EXPECT_TRUE(*ledger_->TouchToken(t.id, 160000));
  EXPECT_FALSE(*ledger_->TouchToken(ids_.Next(), 500000));  // no such token

  Token second;
  second.id = ids_.Next();
  second.name = "later";
  second.role = Role::kAdmin;
  second.hash = std::string(64, 'c');
  second.created_at_ms = 43;
  ApplyOk({{second}});

  t.revoked = true;
  ApplyOk({{t}});
  EXPECT_TRUE((*ledger_->FindTokenByHash(t.hash))->revoked);
  EXPECT_EQ((*ledger_->FindTokenByHash(t.hash))->last_used_at_ms, 160000);
  EXPECT_EQ(*ledger_->CountTokens(), 1);
  auto all = ledger_->ListTokens();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, t.id);
  EXPECT_TRUE((*all)[0].revoked);
  EXPECT_EQ((*all)[0].last_used_at_ms, 160000);
  EXPECT_EQ((*all)[1].name, "later");
  EXPECT_FALSE((*all)[1].last_used_at_ms.has_value());
}

TEST_F(LedgerConformance, ReadsRunWhileWritersWrite) {
  Conversation c = NewConversation(1000);
  ApplyOk({{c}});
  std::atomic<bool> stop{false};
  std::atomic<int> read_failures{0};
  std::thread reader([&] {
    while (!stop) {
      auto t = ledger_->GetTrace(c.id);
      if (!t.ok()) ++read_failures;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 20; ++i) {
        WriteBatch b1, b2;
        b1.Add(NewEvent(c, w * 100 + i));
        b2.Add(NewEvent(c, w * 100 + i));
        auto r = ledger_->ApplyGroup({&b1, &b2});
        EXPECT_TRUE(r[0].ok() && r[1].ok()) << r[0].ToString() << r[1].ToString();
      }
    });
  }
  for (auto& t : writers) t.join();
  stop = true;
  reader.join();
  EXPECT_EQ(read_failures, 0);
  auto report = ledger_->VerifyChain();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->rows_checked, 120);
}

}  // namespace
}  // namespace clawback::ledger
