// LedgerFollower over a temp SQLite ledger written by another Ledger instance (as the CLI in
// direct mode would): what it hands the pipeline, its cursor across restarts, its lease.
#include "telemetry/follower.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "ledger/event_kinds.h"

namespace clawback::telemetry {
namespace {

class FollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    writer_ = Open();
    ASSERT_OK(writer_->Migrate());
  }
  std::unique_ptr<ledger::Ledger> Open() {
    auto l = ledger::OpenLedger("sqlite:" + dir_.File("ledger.db"));
    EXPECT_OK(l);
    return l.ok() ? std::move(*l) : nullptr;
  }
  ledger::Event NewEvent(const std::optional<Uuid>& conv, const std::string& kind, ledger::Json attrs) {
    ledger::Event e;
    e.id = NewUuidV7();
    e.conversation_id = conv;
    e.kind = kind;
    e.time_ms = e.id.UnixMillis();
    e.actor = "cli";
    e.attributes = std::move(attrs);
    return e;
  }
  // A conversation with a finished deployment, written by the other writer; returns the batch.
  ledger::WriteBatch Deploy(const std::string& status) {
    ledger::Conversation c;
    c.id = NewUuidV7();
    c.source = "cli";
    c.started_at_ms = c.id.UnixMillis();
    ledger::Deployment d;
    d.id = NewUuidV7();
    d.conversation_id = c.id;
    d.environment = "prod";
    d.status = status;
    d.started_at_ms = c.started_at_ms;
    d.finished_at_ms = c.started_at_ms + 1000;
    ledger::WriteBatch b;
    b.Add(c);
    b.Add(NewEvent(c.id, ledger::kConversationStart, ledger::Json::object()));
    b.Add(d);
    b.Add(NewEvent(c.id, ledger::kDeployment, {{"deployment_id", d.id.ToString()}}));
    b.Add(NewEvent(c.id, ledger::kCommand, {{"argv", {"make", "deploy"}}, {"exit_code", 0}, {"duration_ms", 5}}));
    EXPECT_OK(writer_->Apply(b));
    return b;
  }
  static size_t Count(const std::vector<ledger::WriteBatch>& got, auto pred) {
    size_t n = 0;
    for (const auto& b : got)
      for (const auto& op : b.ops) n += pred(op) ? 1 : 0;
    return n;
  }

  test::TempDir dir_;
  std::unique_ptr<ledger::Ledger> writer_;
};

TEST_F(FollowerTest, HandsOverWhatAnotherWriterCommittedAndKeepsItsCursor) {
  Deploy("succeeded");  // history before the first start: not exported
  auto reader = Open();
  std::vector<ledger::WriteBatch> got;
  {
    LedgerFollower f(reader.get(), [&](const ledger::WriteBatch& b) { got.push_back(b); });
    ASSERT_OK_AND_ASSIGN(int64_t n, f.RunOnce());
    EXPECT_EQ(n, 0);
    ledger::WriteBatch b = Deploy("failed");
    ASSERT_OK_AND_ASSIGN(n, f.RunOnce());
    EXPECT_EQ(n, 3);
    ASSERT_OK_AND_ASSIGN(n, f.RunOnce());
    EXPECT_EQ(n, 0) << "handed over once";
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(Count(got, [](const ledger::WriteOp& op) { return std::holds_alternative<ledger::Event>(op); }), 3u);
  EXPECT_EQ(Count(got, [](const ledger::WriteOp& op) {
              const auto* d = std::get_if<ledger::Deployment>(&op);
              return d && d->status == "failed" && d->finished_at_ms;
            }), 1u);
  EXPECT_EQ(Count(got, [](const ledger::WriteOp& op) {
              const auto* c = std::get_if<ledger::Command>(&op);
              return c && c->exit_code == 0 && c->argv.size() == 2;
            }), 1u);
  EXPECT_EQ(Count(got, [](const ledger::WriteOp& op) { return std::holds_alternative<ledger::Conversation>(op); }), 1u);

  // A new follower (a restarted server) goes on from the stored cursor.
  Deploy("succeeded");
  got.clear();
  LedgerFollower again(reader.get(), [&](const ledger::WriteBatch& b) { got.push_back(b); });
  ASSERT_OK_AND_ASSIGN(int64_t n, again.RunOnce());
  EXPECT_EQ(n, 3);
  ASSERT_OK_AND_ASSIGN(std::optional<int64_t> cursor, reader->GetCursor("telemetry"));
  ASSERT_TRUE(cursor.has_value());
  EXPECT_EQ(*cursor, 9);
}

TEST_F(FollowerTest, SkipsWhatThisProcessAlreadyExported) {
  auto reader = Open();
  int64_t handed = 0;
  LedgerFollower f(reader.get(), [&](const ledger::WriteBatch& b) {
    for (const auto& op : b.ops) handed += std::holds_alternative<ledger::Event>(op);
  });
  ASSERT_OK(f.RunOnce().status());
  f.NoteOwn(Deploy("succeeded"));  // as the server's commit hook would
  Deploy("failed");                // another writer's
  ASSERT_OK_AND_ASSIGN(int64_t n, f.RunOnce());
  EXPECT_EQ(n, 3);
  EXPECT_EQ(handed, 3);
}

TEST_F(FollowerTest, OneFollowerAtATimeHoldsTheLease) {
  auto a_ledger = Open(), b_ledger = Open();
  int64_t a_got = 0, b_got = 0;
  ManualClock clock;
  FollowerOptions opts;
  opts.lease_ttl_ms = 10'000;
  LedgerFollower a(a_ledger.get(), [&](const ledger::WriteBatch& b) { a_got += static_cast<int64_t>(b.ops.size()); }, opts, clock);
  LedgerFollower b(b_ledger.get(), [&](const ledger::WriteBatch& x) { b_got += static_cast<int64_t>(x.ops.size()); }, opts, clock);
  ASSERT_OK(a.RunOnce().status());  // a holds it
  Deploy("succeeded");
  ASSERT_OK_AND_ASSIGN(int64_t nb, b.RunOnce());
  EXPECT_EQ(nb, 0) << "b must not export while a holds the lease";
  ASSERT_OK_AND_ASSIGN(int64_t na, a.RunOnce());
  EXPECT_EQ(na, 3);
  // a goes silent: after the ttl b takes over, from a's cursor.
  clock.Advance(std::chrono::milliseconds(10001));
  Deploy("failed");
  ASSERT_OK_AND_ASSIGN(nb, b.RunOnce());
  EXPECT_EQ(nb, 3);
  EXPECT_GT(a_got, 0);
  EXPECT_GT(b_got, 0);
}

}  // namespace
}  // namespace clawback::telemetry
