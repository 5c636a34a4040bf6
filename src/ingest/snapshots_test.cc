// POST /v1/snapshots over real HTTP with a temp SQLite ledger and a fake SnapshotFn (the
// store side has its own tests: store/archiver/snapshot_service_test.cc; the whole path
// through the binary is tests/compat/serve_snapshot_test.sh).
#include "record/snapshots.h"

#include <httplib.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/testing/temp_dir.h"
#include "ingest/auth.h"
#include "ingest/server.h"

namespace clawback::ingest {
namespace {

using record::Json;
using record::SnapshotFn;
using record::SnapshotOutcome;
using record::SnapshotRequest;

class SnapshotRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = ledger::OpenLedger("sqlite:" + tmp_.File("ledger.db"));
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(*l);
    ASSERT_TRUE(ledger_->Migrate().ok());
    operator_ = AddToken(ledger::Role::kOperator, "op");
    ingest_ = AddToken(ledger::Role::kIngest, "plugin");
  }
  void Start(SnapshotFn fn) {
    ServerOptions opts;
    opts.listen = "127.0.0.1:0";
    opts.threads = 4;
    opts.snapshots = std::move(fn);
    server_ = std::make_unique<IngestServer>(ledger_.get(), opts);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    ledger_.reset();
  }
  std::string AddToken(ledger::Role role, const std::string& name) {
    std::string tok = GenerateToken();
    ledger::WriteBatch b;
    b.Add(MakeTokenRecord(tok, name, role, 1));
    EXPECT_TRUE(ledger_->Apply(b).ok());
    return tok;
  }
  httplib::Result Post(const std::string& body, const std::string& tok) {
    return client_->Post("/v1/snapshots", {{"Authorization", "Bearer " + tok}}, body, "application/json");
  }
  Uuid NewConversation() {
    ledger::Conversation c;
    c.id = NewUuidV7();
    c.source = "test";
    c.started_at_ms = c.id.UnixMillis();
    ledger::WriteBatch b;
    b.Add(c);
    EXPECT_TRUE(ledger_->Apply(b).ok());
    return c.id;
  }

  // A fake snapshot: records what it was asked and answers with a made-up id.
  SnapshotFn Fake() {
    return [this](const SnapshotRequest& r) -> Result<SnapshotOutcome> {
      std::lock_guard<std::mutex> l(mu_);
      seen_.push_back(r);
      SnapshotOutcome o;
      o.record.snapshot_id = std::string(63, 'a') + std::to_string(seen_.size() % 10);
      o.record.repository = "/repo";
      o.record.reason = r.reason;
      o.record.paths = r.paths;
      o.record.tags = r.tags;
      o.record.time_ms = 1700000000000;
      o.summary = Json{{"snapshot_id", o.record.snapshot_id}, {"files_new", 3}};
      return o;
    };
  }

  test::TempDir tmp_{"clawback-snaproute"};  // outlives the ledger in it
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<IngestServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string operator_, ingest_;
  std::mutex mu_;
  std::vector<SnapshotRequest> seen_;
};

TEST_F(SnapshotRouteTest, TakesAndRecordsAgainstTheConversation) {
  Start(Fake());
  Uuid conv = NewConversation();
  Json body = {{"paths", {"/srv/app"}}, {"tags", {"env=prod"}}, {"conversation", conv.ToString()},
               {"reason", "pre"}};
  auto r = Post(body.dump(), operator_);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  Json answer = Json::parse(r->body);
  EXPECT_EQ(answer["files_new"], 3);
  EXPECT_EQ(answer["conversation_id"], conv.ToString());
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0].paths, std::vector<std::string>{"/srv/app"});
  EXPECT_EQ(seen_[0].reason, "pre");
  ASSERT_TRUE(seen_[0].conversation.has_value());

  auto trace = ledger_->GetTrace(conv);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_EQ(trace->snapshots.size(), 1u);
  EXPECT_EQ(trace->snapshots[0].snapshot_id, answer["snapshot_id"]);
  EXPECT_EQ(trace->snapshots[0].reason, "pre");
  bool event = false;
  for (const auto& e : trace->events) event = event || (e.kind == "snapshot" && e.actor == "op");
  EXPECT_TRUE(event);
}

TEST_F(SnapshotRouteTest, RefusesBeforeTakingAnything) {
  Start(Fake());
  auto r = Post(Json{{"paths", {"/x"}}}.dump(), ingest_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403) << r->body;
  EXPECT_NE(r->body.find("operator"), std::string::npos);

  r = Post(Json{{"paths", {"relative/dir"}}}.dump(), operator_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(r->body.find("paths[0]"), std::string::npos);

  r = Post(Json{{"paths", {"/x"}}, {"conversation", NewUuidV7().ToString()}}.dump(), operator_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->body;

  r = Post(Json{{"force", "yes"}}.dump(), operator_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_TRUE(seen_.empty());
}

TEST_F(SnapshotRouteTest, TheSnapshotsErrorIsTheAnswer) {
  Start([](const SnapshotRequest&) -> Result<SnapshotOutcome> {
    return Locked("repository is locked exclusively by prune");
  });
  auto r = Post("", operator_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, HttpStatusFor(StatusCode::kLocked)) << r->body;
  EXPECT_NE(r->body.find("prune"), std::string::npos);
}

TEST_F(SnapshotRouteTest, WithoutARepositoryTheRouteSaysSo) {
  Start(nullptr);
  auto r = Post(Json{{"paths", {"/x"}}}.dump(), operator_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, HttpStatusFor(StatusCode::kFailedPrecondition)) << r->body;
}

TEST_F(SnapshotRouteTest, ConcurrentRequestsAreAllRecorded) {
  std::atomic<int> n{0};
  Start([&](const SnapshotRequest&) -> Result<SnapshotOutcome> {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    SnapshotOutcome o;
    o.record.snapshot_id = std::string(60, 'b') + std::to_string(1000 + n++);
    o.record.time_ms = 1;
    o.summary = Json{{"snapshot_id", o.record.snapshot_id}};
    return o;
  });
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      httplib::Client c("127.0.0.1", server_->port());
      auto r = c.Post("/v1/snapshots", {{"Authorization", "Bearer " + operator_}},
                      Json{{"paths", {"/x"}}}.dump(), "application/json");
      if (r && r->status == 201) ++created;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 4);
  auto stats = ledger_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, 4);
}

}  // namespace
}  // namespace clawback::ingest
