// Ledger conformance: Group commit: several requests in one transaction (whole, else a savepoint each), several writers on one chain.
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

class LedgerGroupConformance : public LedgerConformance {
 protected:
  // One OpenClaw-shaped request: for each of `calls` tool calls, a start, a command and a
  // finish for the same key (two upserts of one row), with an event per hook.
  WriteBatch Request(const Conversation& c, int calls, const std::string& prefix, int64_t t0) {
    WriteBatch b;
    for (int i = 0; i < calls; ++i) {
      ToolCall start;
      start.conversation_id = c.id;
      start.tool_call_id = prefix + std::to_string(i);
      start.name = "exec";
      start.params = Json{{"command", "make " + std::to_string(i)}};
      start.started_at_ms = t0 + i;
      b.Add(start);
      b.Add(NewEvent(c, t0 + i, "openclaw.before_tool_call"));
      Command cmd;
      cmd.id = ids_.Next();
      cmd.conversation_id = c.id;
      cmd.argv = {"make", std::to_string(i)};
      cmd.exit_code = 0;
      cmd.started_at_ms = t0 + i;
      cmd.tool_call_id = start.tool_call_id;
      b.Add(cmd);
      ToolCall finish;
      finish.conversation_id = c.id;
      finish.tool_call_id = start.tool_call_id;
      finish.status = "ok";
      finish.duration_ms = 1;
      finish.finished_at_ms = t0 + i + 1;
      b.Add(finish);
      b.Add(NewEvent(c, t0 + i + 1, "openclaw.after_tool_call"));
    }
    return b;
  }
  // Groups that failed whole in the fast path and were run again with a savepoint per
  // request, so a test can tell the fast path was taken (both backends take it).
  int64_t Fallbacks() {
    auto* sql = dynamic_cast<SqlLedger*>(ledger_.get());
    return sql ? sql->TEST_GroupFallbacks() : -1;
  }
  void ExpectChainOk(int64_t rows) {
    auto report = ledger_->VerifyChain();
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok) << report->problem;
    EXPECT_EQ(report->rows_checked, rows);
  }
  void ExpectSeqsDense(const Trace& trace) {
    for (size_t i = 1; i < trace.events.size(); ++i) {
      EXPECT_EQ(trace.events[i - 1].seq + 1, trace.events[i].seq) << i;
      EXPECT_EQ(trace.events[i - 1].hash, trace.events[i].prev_hash) << i;
    }
  }
};

// A group whose middle request fails on its last op (an event for a conversation that does
// not exist, after tool calls and commands that went in): the others land, the failure is
// reported on that request alone and names the conversation, and the chain has no gap.
TEST_F(LedgerGroupConformance, FailingRequestInTheMiddleSinksOnlyItself) {
  Conversation c = NewConversation(1000);
  ApplyOk({{c}});
  WriteBatch first = Request(c, 5, "a", 2000);
  WriteBatch bad = Request(c, 5, "b", 3000);
  Event orphan = NewEvent(c, 3999);
  Uuid ghost = ids_.Next();
  orphan.conversation_id = ghost;
  bad.Add(orphan);
  WriteBatch last = Request(c, 5, "c", 4000);

  auto results = ledger_->ApplyGroup({&first, &bad, &last});
  EXPECT_EQ(Fallbacks(), 1);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_EQ(results[1].code(), StatusCode::kNotFound) << results[1].ToString();
  EXPECT_NE(results[1].message().find(ghost.ToString()), std::string::npos)
      << results[1].ToString();
  EXPECT_TRUE(results[2].ok()) << results[2].ToString();

  auto trace = ledger_->GetTrace(c.id);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->events.size(), 20u);
  ASSERT_EQ(trace->tool_calls.size(), 10u);
  for (const ToolCall& tc : trace->tool_calls) {
    EXPECT_NE(tc.tool_call_id[0], 'b') << tc.tool_call_id;
    EXPECT_EQ(tc.status, "ok");
    EXPECT_EQ(tc.name, "exec");
  }
  EXPECT_EQ(trace->commands.size(), 10u);
  ExpectSeqsDense(*trace);
  ExpectChainOk(20);

  // The next write continues the chain where the landed requests left it.
  ApplyOk(Request(c, 1, "d", 5000));
  ExpectChainOk(22);
  EXPECT_EQ(Fallbacks(), 1);
}

// The failure is a non-event op (a tool call for a missing conversation) ahead of events in
// the same and later requests; the error names the tool call.
TEST_F(LedgerGroupConformance, FailingToolCallIsReportedOnItsRequest) {
  Conversation c = NewConversation(1000);
  ApplyOk({{c}});
  WriteBatch first = Request(c, 2, "a", 2000);
  WriteBatch bad;
  ToolCall tc;
  tc.conversation_id = ids_.Next();
  tc.tool_call_id = "orphan_call";
  bad.Add(tc);
  bad.Add(NewEvent(c, 2500));
  WriteBatch ended;
  ended.Add(EndConversation{ids_.Next(), "ended", 1});  // a change count: waits mid-group
  WriteBatch last = Request(c, 2, "c", 3000);

  auto results = ledger_->ApplyGroup({&first, &bad, &ended, &last});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_EQ(results[1].code(), StatusCode::kNotFound) << results[1].ToString();
  EXPECT_NE(results[1].message().find("orphan_call"), std::string::npos) << results[1].ToString();
  EXPECT_EQ(results[2].code(), StatusCode::kNotFound) << results[2].ToString();
  EXPECT_TRUE(results[3].ok()) << results[3].ToString();
  auto trace = ledger_->GetTrace(c.id);
  ASSERT_TRUE(trace.ok());
  EXPECT_EQ(trace->events.size(), 8u);
  EXPECT_EQ(trace->tool_calls.size(), 4u);
  ExpectSeqsDense(*trace);
  ExpectChainOk(8);
}

// Every request fails: nothing lands, each reports its own error, and the chain continues
// from the tail it had (the tail read for the failed attempt is not reused).
TEST_F(LedgerGroupConformance, ChainContinuesAfterAGroupThatLandedNothing) {
  Conversation c = NewConversation(1000);
  WriteBatch setup = Request(c, 3, "s", 1500);
  setup.ops.insert(setup.ops.begin(), c);
  ApplyOk(setup);
  ExpectChainOk(6);
  WriteBatch b1 = Request(c, 3, "x", 2000), b2 = Request(c, 3, "y", 3000);
  Event dup = ledger_->GetTrace(c.id)->events[0];  // already stored: AlreadyExists
  b1.Add(dup);
  Event no_kind = NewEvent(c, 3500);
  no_kind.kind.clear();
  b2.Add(no_kind);
  EXPECT_EQ(Fallbacks(), 0);
  auto results = ledger_->ApplyGroup({&b1, &b2});
  EXPECT_EQ(Fallbacks(), 1);
  EXPECT_EQ(results[0].code(), StatusCode::kAlreadyExists) << results[0].ToString();
  EXPECT_EQ(results[1].code(), StatusCode::kInvalidArgument) << results[1].ToString();
  EXPECT_EQ(ledger_->Stats()->events, 6);
  ExpectChainOk(6);

  WriteBatch ok1 = Request(c, 2, "p", 4000), ok2 = Request(c, 2, "q", 5000);
  results = ledger_->ApplyGroup({&ok1, &ok2});
  EXPECT_TRUE(results[0].ok() && results[1].ok()) << results[0].ToString() << results[1].ToString();
  auto trace = ledger_->GetTrace(c.id);
  ASSERT_TRUE(trace.ok());
  ASSERT_EQ(trace->events.size(), 14u);
  EXPECT_EQ(trace->events.back().seq, 14);
  ExpectSeqsDense(*trace);
  ExpectChainOk(14);
}

// Repeated upserts of one tool call or command in one request (start and finish, finish
// before start, params given as "{}" — "not given", as an empty object is —, a command
// updated by a second op) end as if applied one by one, however the backend batches them.
TEST_F(LedgerGroupConformance, RepeatedUpsertsInOneRequestApplyInOrder) {
  Conversation c = NewConversation(1000);
  ApplyOk({{c}});
  WriteBatch b;
  ToolCall start_a;
  start_a.conversation_id = c.id;
  start_a.tool_call_id = "A";
  start_a.name = "exec";
  start_a.params = Json{{"command", "make"}};
  start_a.started_at_ms = 1100;
  start_a.run_id = "r1";
  b.Add(start_a);
  Command cmd;
  cmd.id = ids_.Next();
  cmd.conversation_id = c.id;
  cmd.argv = {"make"};
  cmd.cwd = "/w";
  cmd.started_at_ms = 1100;
  cmd.tool_call_id = "A";
  b.Add(cmd);
  b.Add(NewEvent(c, 1100));
  ToolCall finish_a;
  finish_a.conversation_id = c.id;
  finish_a.tool_call_id = "A";
  finish_a.params_text = "{}";  // empty, like an empty params object: "not given", kept
  finish_a.status = "ok";
  finish_a.exit_code = 0;
  finish_a.duration_ms = 5;
  finish_a.finished_at_ms = 1105;
  finish_a.result_text = R"({"stdout":"ok"})";
  b.Add(finish_a);
  Command cmd_done;
  cmd_done.id = cmd.id;
  cmd_done.exit_code = 2;
  cmd_done.duration_ms = 5;
  b.Add(cmd_done);
  ToolCall finish_b;
  finish_b.conversation_id = c.id;
  finish_b.tool_call_id = "B";
  finish_b.status = "error";
  finish_b.error = "boom";
  b.Add(finish_b);
  ToolCall start_b;
  start_b.conversation_id = c.id;
  start_b.tool_call_id = "B";
  start_b.name = "read";
  start_b.params = Json{{"path", "x"}};
  start_b.started_at_ms = 1200;
  b.Add(start_b);
  b.Add(NewEvent(c, 1200));
  ApplyOk(b);
  EXPECT_EQ(Fallbacks(), 0);  // the fast path took it

  auto trace = ledger_->GetTrace(c.id);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_EQ(trace->tool_calls.size(), 2u);
  const ToolCall& a = trace->tool_calls[0];
  EXPECT_EQ(a.tool_call_id, "A");
  EXPECT_EQ(a.name, "exec");
  EXPECT_EQ(a.params, (Json{{"command", "make"}}));
  EXPECT_EQ(a.status, "ok");
  EXPECT_EQ(a.exit_code, 0);
  EXPECT_EQ(a.duration_ms, 5);
  EXPECT_EQ(a.started_at_ms, 1100);
  EXPECT_EQ(a.finished_at_ms, 1105);
  EXPECT_EQ(a.result, (Json{{"stdout", "ok"}}));
  EXPECT_EQ(a.run_id, "r1");
  const ToolCall& bc = trace->tool_calls[1];
  EXPECT_EQ(bc.tool_call_id, "B");
  EXPECT_EQ(bc.name, "read");
  EXPECT_EQ(bc.params, (Json{{"path", "x"}}));
  EXPECT_EQ(bc.status, "error");
  EXPECT_EQ(bc.error, "boom");
  EXPECT_EQ(bc.started_at_ms, 1200);
  ASSERT_EQ(trace->commands.size(), 1u);
  const Command& got = trace->commands[0];
  EXPECT_EQ(got.argv, std::vector<std::string>{"make"});
  EXPECT_EQ(got.cwd, "/w");
  EXPECT_EQ(got.exit_code, 2);
  EXPECT_EQ(got.duration_ms, 5);
  EXPECT_EQ(got.started_at_ms, 1100);
  EXPECT_EQ(got.tool_call_id, "A");
  EXPECT_EQ(got.conversation_id, c.id);
  ExpectChainOk(2);
}

// Random runs of upserts on a few keys, each field given or not at random: one request
// holding them all (merged per key before it reaches the database) ends with the same rows
// as the same ops applied one request each, in a second conversation, and as the same ops
// applied one request each on top of rows that already exist.
TEST_F(LedgerGroupConformance, MergedUpsertsEqualOneByOne) {
  uint64_t rng = 0x9e3779b97f4a7c15ULL;
  auto next = [&](uint64_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % n;
  };
  auto pick = [&](std::vector<std::string> choices) { return choices[next(choices.size())]; };
  for (int round = 0; round < 12; ++round) {
    Conversation merged = NewConversation(1000), single = NewConversation(1000);
    ApplyOk({{merged}});
    ApplyOk({{single}});
    std::vector<Uuid> command_ids = {ids_.Next(), ids_.Next()};
    // Ops for conversation `c`, in order.
    struct Op {
      bool tool;
      ToolCall t;
      Command cmd;
    };
    std::vector<Op> ops;
    for (int i = 0; i < 10; ++i) {
      Op op;
      op.tool = next(3) != 0;
      if (op.tool) {
        ToolCall& t = op.t;
        t.tool_call_id = pick({"k1", "k2", "k3"});
        t.name = pick({"", "exec", "read"});
        int params = static_cast<int>(next(4));
        if (params == 1) t.params = Json{{"n", i}};
        if (params == 2) t.params_text = "{}";
        if (params == 3) t.params_text = "{\"p\":" + std::to_string(i) + "}";
        t.status = pick({"started", "ok", "error", ""});
        if (next(2)) t.exit_code = static_cast<int>(next(3));
        if (next(2)) t.duration_ms = static_cast<int64_t>(next(100));
        t.started_at_ms = next(2) ? 0 : 1000 + i;
        if (next(2)) t.finished_at_ms = 2000 + i;
        int result = static_cast<int>(next(3));
        if (result == 1) t.result = Json{{"r", i}};
        if (result == 2) t.result_text = "[" + std::to_string(i) + "]";
        t.error = pick({"", "", "boom"});
        t.run_id = pick({"", "run-a", "run-b"});
      } else {
        Command& c = op.cmd;
        c.id = command_ids[next(2)];
        if (next(2)) c.argv = {"make", std::to_string(i)};
        c.cwd = pick({"", "/w", "/x"});
        if (next(2)) c.exit_code = static_cast<int>(next(3));
        c.started_at_ms = next(2) ? 0 : 1000 + i;
        if (next(2)) c.duration_ms = static_cast<int64_t>(next(50));
        c.tool_call_id = pick({"", "k1"});
      }
      ops.push_back(std::move(op));
    }
    // Command ids are global: the one-by-one copy uses ids of its own.
    std::vector<Uuid> single_ids = {ids_.Next(), ids_.Next()};
    auto add = [&](WriteBatch* b, const Op& op, const Conversation& c, bool remap) {
      if (op.tool) {
        ToolCall t = op.t;
        t.conversation_id = c.id;
        b->Add(t);
      } else {
        Command cmd = op.cmd;
        cmd.conversation_id = c.id;
        if (remap) cmd.id = single_ids[cmd.id == command_ids[0] ? 0 : 1];
        b->Add(cmd);
      }
    };
    // Applies the ops both ways and compares every column; `pass` names the pass.
    auto apply_and_compare = [&](const std::string& pass) {
      WriteBatch all;
      for (const Op& op : ops) add(&all, op, merged, false);
      ApplyOk(all);
      for (const Op& op : ops) {
        WriteBatch one;
        add(&one, op, single, true);
        ApplyOk(one);
      }
      auto a = ledger_->GetTrace(merged.id);
      auto b = ledger_->GetTrace(single.id);
      ASSERT_TRUE(a.ok() && b.ok());
      const std::string where = "round " + std::to_string(round) + ", " + pass;
      ASSERT_EQ(a->tool_calls.size(), b->tool_calls.size()) << where;
      for (size_t i = 0; i < a->tool_calls.size(); ++i) {
        const ToolCall &x = a->tool_calls[i], &y = b->tool_calls[i];
        SCOPED_TRACE(where + ", tool call " + x.tool_call_id);
        EXPECT_EQ(x.tool_call_id, y.tool_call_id);
        EXPECT_EQ(x.name, y.name);
        EXPECT_EQ(x.params, y.params);
        EXPECT_EQ(x.status, y.status);
        EXPECT_EQ(x.exit_code, y.exit_code);
        EXPECT_EQ(x.duration_ms, y.duration_ms);
        EXPECT_EQ(x.started_at_ms, y.started_at_ms);
        EXPECT_EQ(x.finished_at_ms, y.finished_at_ms);
        EXPECT_EQ(x.result, y.result);
        EXPECT_EQ(x.error, y.error);
        EXPECT_EQ(x.run_id, y.run_id);
      }
      ASSERT_EQ(a->commands.size(), b->commands.size()) << where;
      for (const Command& x : a->commands) {
        size_t k = x.id == command_ids[0] ? 0 : 1;
        const Command* y = nullptr;
        for (const Command& c : b->commands) {
          if (c.id == single_ids[k]) y = &c;
        }
        ASSERT_NE(y, nullptr);
        SCOPED_TRACE(where + ", command " + std::to_string(k));
        EXPECT_EQ(x.argv, y->argv);
        EXPECT_EQ(x.cwd, y->cwd);
        EXPECT_EQ(x.exit_code, y->exit_code);
        EXPECT_EQ(x.started_at_ms, y->started_at_ms);
        EXPECT_EQ(x.duration_ms, y->duration_ms);
        EXPECT_EQ(x.tool_call_id, y->tool_call_id);
      }
    };
    apply_and_compare("new rows");
    apply_and_compare("onto the stored rows");
  }
  EXPECT_EQ(Fallbacks(), 0);
}

// A group far larger than any network buffer (tens of thousands of statements' worth of
// requests and results in flight at once) commits whole.
TEST_F(LedgerGroupConformance, LargeGroupCommitsWhole) {
  Conversation c = NewConversation(1000);
  ApplyOk({{c}});
  std::vector<WriteBatch> batches;
  for (int r = 0; r < 40; ++r)
    batches.push_back(Request(c, 50, "r" + std::to_string(r) + "_", 2000 + r * 100));
  std::vector<const WriteBatch*> ptrs;
  for (const auto& b : batches) ptrs.push_back(&b);
  auto results = ledger_->ApplyGroup(ptrs);
  for (size_t i = 0; i < results.size(); ++i)
    EXPECT_TRUE(results[i].ok()) << i << results[i].ToString();
  auto trace = ledger_->GetTrace(c.id);
  ASSERT_TRUE(trace.ok());
  EXPECT_EQ(trace->events.size(), 4000u);
  EXPECT_EQ(trace->tool_calls.size(), 2000u);
  EXPECT_EQ(trace->commands.size(), 2000u);
  ExpectChainOk(4000);
  EXPECT_EQ(Fallbacks(), 0);
}

// Two ledgers on one database (two processes) writing in turn: each transaction reads the
// chain's tail afresh, so the chain stays linear.
TEST_F(LedgerGroupConformance, TwoWritersShareOneChain) {
  auto other = OpenLedger(harness_.url, clock_);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  Conversation c = NewConversation(1000);
  ApplyOk({{c}});
  for (int i = 0; i < 4; ++i) {
    WriteBatch a = Request(c, 2, "a" + std::to_string(i) + "_", 2000 + i * 10);
    WriteBatch b = Request(c, 2, "b" + std::to_string(i) + "_", 3000 + i * 10);
    auto ra = ledger_->ApplyGroup({&a});
    auto rb = (*other)->ApplyGroup({&b});
    ASSERT_TRUE(ra[0].ok() && rb[0].ok()) << ra[0].ToString() << rb[0].ToString();
  }
  ExpectChainOk(32);
  EXPECT_EQ(Fallbacks(), 0);
}

// Two ledgers on one database (two processes) writing at the same time: the engine's chain
// lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock) must let one transaction at a
// time read the chain's tail and append to it. Without it both would append after the same
// tail (PostgreSQL: a duplicate seq, and batches failing).
TEST_F(LedgerGroupConformance, TwoWritersAtOnceShareOneChain) {
  auto other = OpenLedger(harness_.url, clock_);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  Conversation c = NewConversation(1000);
  ApplyOk({{c}});
  constexpr int kGroups = 40;
  std::atomic<int> failures{0};
  auto write = [&](Ledger* l, const std::string& who, int64_t t0) {
    for (int i = 0; i < kGroups; ++i) {
      WriteBatch a = Request(c, 2, who + std::to_string(i) + "a_", t0 + i * 10);
      WriteBatch b = Request(c, 1, who + std::to_string(i) + "b_", t0 + i * 10 + 5);
      for (const Status& st : l->ApplyGroup({&a, &b})) {
        if (!st.ok()) {
          ++failures;
          ADD_FAILURE() << who << " group " << i << ": " << st.ToString();
        }
      }
    }
  };
  std::thread t1(write, ledger_.get(), "x", 10000);
  std::thread t2(write, other->get(), "y", 50000);
  t1.join();
  t2.join();
  EXPECT_EQ(failures.load(), 0);
  ExpectChainOk(2 * kGroups * 6);
  auto trace = ledger_->GetTrace(c.id);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->events.size(), static_cast<size_t>(2 * kGroups * 6));
}

}  // namespace
}  // namespace clawback::ledger
