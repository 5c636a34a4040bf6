// Ledger conformance: Schema: migrations, reopening, stats.
// One of the suite's themed files (ledger_conformance.h has the fixture and how each backend
// runs it); every test runs on SQLite and on PostgreSQL.
#include <gtest/gtest.h>

#include <string>

#include "ledger/ledger_conformance.h"

namespace clawback::ledger {
namespace {

TEST_F(LedgerConformance, MigrationsAreVersionedAndIdempotent) {
  EXPECT_EQ(version_before_migrate_, 0);
  auto v = ledger_->SchemaVersion();
  ASSERT_TRUE(v.ok());
  EXPECT_GE(*v, 1);
  Status again = ledger_->Migrate();
  ASSERT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(*ledger_->SchemaVersion(), *v);
  // A second process opening the same ledger migrates to the same place without error.
  auto other = OpenLedger(harness_.url, clock_);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Migrate().ok());
  EXPECT_EQ(*(*other)->SchemaVersion(), *v);
}

TEST_F(LedgerConformance, RefusesASchemaNewerThanItKnows) {
  RawExec("INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (999, 'future', 0)");
  Status st = ledger_->Migrate();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("999"), std::string::npos);
}

TEST_F(LedgerConformance, SchemaVersionFiveHasTheFollowerTables) {
  EXPECT_GE(*ledger_->SchemaVersion(), 5);
  RawExec("SELECT name, seq, updated_at_ms FROM cursors");
  RawExec("SELECT name, holder, acquired_at_ms, expires_at_ms FROM leases");
}


TEST_F(LedgerConformance, AppendsContinueTheChainAcrossOpens) {
  Conversation c = NewConversation(1000);
  ApplyOk({{c, NewEvent(c, 1)}});
  ledger_.reset();
  auto reopened = OpenLedger(harness_.url, clock_);
  ASSERT_TRUE(reopened.ok());
  ledger_ = std::move(reopened).value();
  ApplyOk({{NewEvent(c, 2)}});
  auto report = ledger_->VerifyChain();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->rows_checked, 2);
}

TEST_F(LedgerConformance, Stats) {
  Conversation a = NewConversation(1);
  Conversation b = NewConversation(2);
  ApplyOk({{a, b, NewEvent(a, 1), NewEvent(a, 2), NewEvent(b, 3)}});
  auto s = ledger_->Stats();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->events, 3);
  EXPECT_EQ(s->conversations, 2);
  EXPECT_GT(s->size_bytes, 0);
}

}  // namespace
}  // namespace clawback::ledger
