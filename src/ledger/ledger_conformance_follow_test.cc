// Ledger conformance: Followers of the chain (schema version 5): events after a seq, cursors, leases.
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

TEST_F(LedgerConformance, ReadEventsAfterPagesInSeqOrder) {
  Conversation a = NewConversation(1000);
  Conversation b = NewConversation(1001);
  ApplyOk({{a, b}});
  std::vector<Event> written;
  for (int i = 0; i < 25; ++i) {
    Event e = NewEvent(i % 2 ? a : b, 2000 - i, i % 3 ? "openclaw.message" : "command");
    if (i == 7) e.conversation_id.reset();  // an event of no conversation
    written.push_back(e);
  }
  // In three batches, one of them a group of two.
  WriteBatch b1, b2, b3;
  for (int i = 0; i < 25; ++i) (i < 9 ? b1 : i < 20 ? b2 : b3).Add(written[i]);
  ApplyOk(b1);
  auto r = ledger_->ApplyGroup({&b2, &b3});
  ASSERT_TRUE(r[0].ok() && r[1].ok()) << r[0].ToString() << r[1].ToString();

  std::vector<Event> read;
  int64_t after = 0;
  int pages = 0;
  for (;;) {
    auto page = ledger_->ReadEventsAfter(after, 10);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    if (page->empty()) break;
    ++pages;
    EXPECT_LE(page->size(), 10u);
    for (const Event& e : *page) {
      EXPECT_GT(e.seq, after);
      after = e.seq;
      read.push_back(e);
    }
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(read.size(), written.size());
  for (size_t i = 0; i < read.size(); ++i) {
    const Event& got = read[i];
    const Event& want = written[i];
    EXPECT_EQ(got.seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(got.id, want.id) << i;
    EXPECT_EQ(got.conversation_id, want.conversation_id) << i;
    EXPECT_EQ(got.kind, want.kind) << i;
    EXPECT_EQ(got.actor, want.actor) << i;
    EXPECT_EQ(got.time_ms, want.time_ms) << i;
    EXPECT_EQ(got.attributes, want.attributes) << i;
    EXPECT_EQ(got.prev_hash, i == 0 ? std::string() : read[i - 1].hash) << i;
    EXPECT_EQ(got.hash.size(), 64u) << i;
  }
  // From the middle; past the end; the limit is cut, not refused; a bad limit is refused.
  auto mid = ledger_->ReadEventsAfter(20, 100);
  ASSERT_TRUE(mid.ok());
  ASSERT_EQ(mid->size(), 5u);
  EXPECT_EQ(mid->front().seq, 21);
  auto past = ledger_->ReadEventsAfter(25, 10);
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past->empty());
  auto big = ledger_->ReadEventsAfter(0, 1000000);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->size(), 25u);
  EXPECT_EQ(ledger_->ReadEventsAfter(0, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LedgerConformance, ReadEventsAfterSeesWhatAnotherLedgerCommitted) {
  Conversation c = NewConversation(1000);
  ApplyOk({{c, NewEvent(c, 1), NewEvent(c, 2)}});
  auto other = OpenLedger(harness_.url, clock_);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto first = ledger_->ReadEventsAfter(0, 100);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  // The other instance (another server on the same ledger) appends; this one's next read,
  // after the last seq it saw, sees exactly those.
  WriteBatch more;
  Event e3 = NewEvent(c, 3);
  Event e4 = NewEvent(c, 4);
  more.Add(e3);
  more.Add(e4);
  ASSERT_TRUE((*other)->Apply(more).ok());
  auto next = ledger_->ReadEventsAfter(first->back().seq, 100);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ASSERT_EQ(next->size(), 2u);
  EXPECT_EQ((*next)[0].id, e3.id);
  EXPECT_EQ((*next)[0].seq, 3);
  EXPECT_EQ((*next)[1].id, e4.id);
  EXPECT_EQ((*next)[0].prev_hash, first->back().hash);
  // And the other way round.
  ApplyOk({{NewEvent(c, 5)}});
  auto seen = (*other)->ReadEventsAfter(4, 100);
  ASSERT_TRUE(seen.ok());
  ASSERT_EQ(seen->size(), 1u);
  EXPECT_EQ((*seen)[0].seq, 5);
}

TEST_F(LedgerConformance, CursorSurvivesReopen) {
  auto none = ledger_->GetCursor("telemetry.otlp");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(ledger_->SetCursor("telemetry.otlp", 5).ok());
  EXPECT_EQ(ledger_->GetCursor("telemetry.otlp").value(), std::optional<int64_t>(5));
  ASSERT_TRUE(ledger_->SetCursor("telemetry.otlp", 42).ok());
  ASSERT_TRUE(ledger_->SetCursor("telemetry.other", 7).ok());
  EXPECT_EQ(ledger_->GetCursor("telemetry.otlp").value(), std::optional<int64_t>(42));
  ledger_.reset();
  auto reopened = OpenLedger(harness_.url, clock_);
  ASSERT_TRUE(reopened.ok());
  ledger_ = std::move(reopened).value();
  EXPECT_EQ(ledger_->GetCursor("telemetry.otlp").value(), std::optional<int64_t>(42));
  EXPECT_EQ(ledger_->GetCursor("telemetry.other").value(), std::optional<int64_t>(7));
  EXPECT_EQ(ledger_->GetCursor("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->SetCursor("", 1).code(), StatusCode::kInvalidArgument);
}

TEST_F(LedgerConformance, LeaseGoesToOneHolderAndToTheOtherAfterExpiry) {
  auto a = ledger_->TryAcquireLease("telemetry.otlp", "server-a", 1000, 10000);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(a->acquired);
  EXPECT_EQ(a->lease.name, "telemetry.otlp");
  EXPECT_EQ(a->lease.holder, "server-a");
  EXPECT_EQ(a->lease.acquired_at_ms, 10000);
  EXPECT_EQ(a->lease.expires_at_ms, 11000);
  // B, on another ledger instance (another server), is told who holds it.
  auto other = OpenLedger(harness_.url, clock_);
  ASSERT_TRUE(other.ok());
  auto b = (*other)->TryAcquireLease("telemetry.otlp", "server-b", 1000, 10500);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_FALSE(b->acquired);
  EXPECT_EQ(b->lease.holder, "server-a");
  EXPECT_EQ(b->lease.expires_at_ms, 11000);
  // A renews by asking again: later expiry, same start.
  a = ledger_->TryAcquireLease("telemetry.otlp", "server-a", 1000, 10800);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->acquired);
  EXPECT_EQ(a->lease.acquired_at_ms, 10000);
  EXPECT_EQ(a->lease.expires_at_ms, 11800);
  b = (*other)->TryAcquireLease("telemetry.otlp", "server-b", 1000, 11799);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->acquired);
  // Expired: B takes it over; A no longer holds it.
  b = (*other)->TryAcquireLease("telemetry.otlp", "server-b", 1000, 11800);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->acquired);
  EXPECT_EQ(b->lease.holder, "server-b");
  EXPECT_EQ(b->lease.acquired_at_ms, 11800);
  EXPECT_EQ(b->lease.expires_at_ms, 12800);
  a = ledger_->TryAcquireLease("telemetry.otlp", "server-a", 1000, 11900);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->acquired);
  EXPECT_EQ(a->lease.holder, "server-b");
  // Leases of other names are independent.
  auto c = ledger_->TryAcquireLease("telemetry.prometheus", "server-a", 1000, 11900);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->acquired);
  // Bad arguments.
  EXPECT_EQ(ledger_->TryAcquireLease("", "a", 1, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->TryAcquireLease("x", "", 1, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->TryAcquireLease("x", "a", 0, 1).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(LedgerConformance, ReleasedLeaseIsFreeAtOnce) {
  ASSERT_TRUE(ledger_->TryAcquireLease("job", "a", 60000, 1000).value().acquired);
  // Only the holder can release it.
  auto not_mine = ledger_->ReleaseLease("job", "b");
  ASSERT_TRUE(not_mine.ok()) << not_mine.status().ToString();
  EXPECT_FALSE(*not_mine);
  EXPECT_FALSE(ledger_->TryAcquireLease("job", "b", 60000, 2000).value().acquired);
  auto released = ledger_->ReleaseLease("job", "a");
  ASSERT_TRUE(released.ok());
  EXPECT_TRUE(*released);
  EXPECT_FALSE(ledger_->ReleaseLease("job", "a").value());  // nothing left to release
  // Long before its expiry, someone else takes it.
  auto b = ledger_->TryAcquireLease("job", "b", 60000, 2000);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->acquired);
  EXPECT_EQ(b->lease.acquired_at_ms, 2000);
}

// Several servers (ledger instances, each with its own connections) ask at the same moment:
// exactly one gets the lease, and all of them are told the same holder.
TEST_F(LedgerConformance, ContendedLeaseHasOneHolder) {
  constexpr int kServers = 4;
  constexpr int kRounds = 5;
  std::vector<std::unique_ptr<Ledger>> servers;
  for (int i = 0; i < kServers; ++i) {
    auto l = OpenLedger(harness_.url, clock_);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    servers.push_back(std::move(l).value());
  }
  for (int round = 0; round < kRounds; ++round) {
    // Each round starts after the last round's lease has expired.
    const int64_t now = 100000 + round * 10000;
    std::vector<Result<LeaseResult>> results(kServers, Result<LeaseResult>(Internal("unset")));
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kServers; ++i) {
      threads.emplace_back([&, i] {
        ++ready;
        while (ready < kServers) std::this_thread::yield();
        results[i] = servers[i]->TryAcquireLease("telemetry.otlp", "server-" + std::to_string(i),
                                                 5000, now);
      });
    }
    for (auto& t : threads) t.join();
    int winners = 0;
    std::string winner;
    for (int i = 0; i < kServers; ++i) {
      ASSERT_TRUE(results[i].ok()) << results[i].status().ToString();
      if (results[i]->acquired) {
        ++winners;
        winner = "server-" + std::to_string(i);
      }
    }
    ASSERT_EQ(winners, 1) << "round " << round;
    for (int i = 0; i < kServers; ++i) EXPECT_EQ(results[i]->lease.holder, winner);
  }
}

TEST_F(LedgerConformance, FollowerBookkeepingIsOutsideTheChain) {
  Conversation c = NewConversation(1000);
  ApplyOk({{c, NewEvent(c, 1)}});
  auto before = ledger_->VerifyChain();
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(ledger_->SetCursor("telemetry.otlp", 1).ok());
  ASSERT_TRUE(ledger_->TryAcquireLease("telemetry.otlp", "a", 1000, 1).ok());
  auto after = ledger_->VerifyChain();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(after->ok) << after->table << " " << after->row << ": " << after->problem;
  EXPECT_EQ(after->rows_checked, before->rows_checked);
  EXPECT_EQ(after->projection_rows_checked, before->projection_rows_checked);
  auto events = ledger_->ReadEventsAfter(0, 10);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 1u);  // no event records the bookkeeping
  // A hand edit of the bookkeeping is not a broken ledger either.
  RawExec("UPDATE cursors SET seq = 99");
  RawExec("UPDATE leases SET holder = 'b'");
  after = ledger_->VerifyChain();
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->ok) << after->problem;
}

}  // namespace
}  // namespace clawback::ledger
