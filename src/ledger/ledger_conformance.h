// The ledger conformance suite: one set of tests, run against every backend.
// Built twice (src/ledger/CMakeLists.txt): with LEDGER_CONFORMANCE_SQLITE against SQLite on a
// temp file, and with LEDGER_CONFORMANCE_POSTGRES against $CLAWBACK_TEST_PG_URL (skipped
// when unset), each test in a schema of its own that is dropped afterwards. The tests live in
// themed files, ledger_conformance_<theme>_test.cc; the backends' set-up in
// ledger_conformance_harness.cc.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/testing/status_matchers.h"
#include "common/uuid.h"
#include "ledger/ledger.h"
#include "ledger/sql_ledger.h"

namespace clawback::ledger {

// Runs raw SQL against the backend under test, bypassing the ledger (to tamper with it).
class RawDb {
 public:
  virtual ~RawDb() = default;
  virtual bool Exec(const std::string& sql, std::string* error) = 0;
};

struct Harness {
  std::string url;
  std::unique_ptr<RawDb> raw;
  std::function<void()> cleanup;
};

// A fresh, empty ledger of the backend under test, or nullopt (with *skip set when the
// backend is not available here, e.g. no PostgreSQL URL).
std::optional<Harness> MakeHarness(std::string* skip);
// "sqlite" or "postgresql".
extern const char* const kBackendName;

class LedgerConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip;
    auto h = MakeHarness(&skip);
    if (!h) {
      if (!skip.empty()) GTEST_SKIP() << skip;
      FAIL() << "could not set up the " << kBackendName << " backend";
    }
    harness_ = std::move(*h);
    ASSERT_OK_AND_ASSIGN(ledger_, OpenLedger(harness_.url, clock_));
    ASSERT_EQ(ledger_->backend(), kBackendName);
    ASSERT_OK_AND_ASSIGN(version_before_migrate_, ledger_->SchemaVersion());
    ASSERT_OK(ledger_->Migrate());
  }
  void TearDown() override {
    ledger_.reset();
    harness_.raw.reset();
    if (harness_.cleanup) harness_.cleanup();
  }

  void ApplyOk(WriteBatch b) { ASSERT_OK(ledger_->Apply(b)); }
  void RawExec(const std::string& sql) {
    std::string err;
    ASSERT_TRUE(harness_.raw->Exec(sql, &err)) << sql << ": " << err;
  }

  Conversation NewConversation(int64_t started, std::string title = "fix the build") {
    Conversation c;
    c.id = ids_.Next();
    c.source = "openclaw";
    c.title = std::move(title);
    c.agent = "main";
    c.started_at_ms = started;
    return c;
  }
  Event NewEvent(const Conversation& c, int64_t t, std::string kind = "openclaw.message") {
    Event e;
    e.id = ids_.Next();
    e.conversation_id = c.id;
    e.kind = std::move(kind);
    e.time_ms = t;
    e.actor = "openclaw:main";
    e.attributes = Json{{"t", t}, {"text", "héllo"}, {"n", 1.5}};
    return e;
  }

  ManualClock clock_;
  UuidV7Generator ids_{clock_};
  Harness harness_;
  std::unique_ptr<Ledger> ledger_;
  int version_before_migrate_ = -1;
};

}  // namespace clawback::ledger
