// The ledger conformance suite: one set of tests, run against every backend.
// Built twice (src/ledger/CMakeLists.txt): with LEDGER_CONFORMANCE_SQLITE against SQLite on a
// temp file, and with LEDGER_CONFORMANCE_POSTGRES against $CLAWBACK_TEST_PG_URL (skipped
// when unset), each test in a schema of its own that is dropped afterwards.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "ledger/ledger.h"
#include "ledger/sql_ledger.h"

#if LEDGER_CONFORMANCE_SQLITE
#include <sqlite3.h>
#endif
#if LEDGER_CONFORMANCE_POSTGRES
#include <libpq-fe.h>
#endif

namespace clawback::ledger {
namespace {

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

#if LEDGER_CONFORMANCE_SQLITE
class SqliteRaw : public RawDb {
 public:
  explicit SqliteRaw(const std::string& path) { sqlite3_open(path.c_str(), &db_); }
  ~SqliteRaw() override { sqlite3_close(db_); }
  bool Exec(const std::string& sql, std::string* error) override {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (err) *error = err;
    sqlite3_free(err);
    return rc == SQLITE_OK;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::optional<Harness> MakeHarness(std::string* skip) {
  (void)skip;
  char tmpl[] = "/tmp/clawback-ledger-conf.XXXXXX";
  if (!mkdtemp(tmpl)) return std::nullopt;
  std::string dir = tmpl;
  Harness h;
  h.url = "sqlite:" + dir + "/ledger.db";
  h.raw = std::make_unique<SqliteRaw>(dir + "/ledger.db");
  h.cleanup = [dir] { std::filesystem::remove_all(dir); };
  return h;
}
const char* kBackendName = "sqlite";
#endif

#if LEDGER_CONFORMANCE_POSTGRES
class PgRaw : public RawDb {
 public:
  explicit PgRaw(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  }
  ~PgRaw() override { PQfinish(conn_); }
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  bool Exec(const std::string& sql, std::string* error) override {
    PGresult* r = PQexec(conn_, sql.c_str());
    auto s = PQresultStatus(r);
    bool good = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!good) *error = PQresultErrorMessage(r);
    PQclear(r);
    return good;
  }

 private:
  PGconn* conn_;
};

std::optional<Harness> MakeHarness(std::string* skip) {
  const char* base = std::getenv("CLAWBACK_TEST_PG_URL");
  if (!base || !*base) {
    *skip = "CLAWBACK_TEST_PG_URL is not set (make test sets it through scripts/with-postgres)";
    return std::nullopt;
  }
  std::string schema = "ledger_test_" + NewUuidV7().ToHex();
  auto admin = std::make_shared<PgRaw>(base);
  std::string err;
  if (!admin->ok() || !admin->Exec("CREATE SCHEMA " + schema, &err)) return std::nullopt;
  std::string url = base;
  url += (url.find('?') == std::string::npos ? "?" : "&");
  url += "options=-csearch_path%3D" + schema;
  Harness h;
  h.url = url;
  h.raw = std::make_unique<PgRaw>(url);
  h.cleanup = [admin, schema] {
    std::string e;
    admin->Exec("DROP SCHEMA " + schema + " CASCADE", &e);
  };
  return h;
}
const char* kBackendName = "postgresql";
#endif

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
    auto opened = OpenLedger(harness_.url, clock_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    ledger_ = std::move(opened).value();
    ASSERT_EQ(ledger_->backend(), kBackendName);
    auto v = ledger_->SchemaVersion();
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    version_before_migrate_ = *v;
    Status st = ledger_->Migrate();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void TearDown() override {
    ledger_.reset();
    harness_.raw.reset();
    if (harness_.cleanup) harness_.cleanup();
  }

  void ApplyOk(WriteBatch b) {
    Status st = ledger_->Apply(b);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
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

// --- Followers: events after a seq, cursors, leases

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

TEST_F(LedgerConformance, SchemaVersionFiveHasTheFollowerTables) {
  EXPECT_GE(*ledger_->SchemaVersion(), 5);
  RawExec("SELECT name, seq, updated_at_ms FROM cursors");
  RawExec("SELECT name, holder, acquired_at_ms, expires_at_ms FROM leases");
}

}  // namespace
}  // namespace clawback::ledger
