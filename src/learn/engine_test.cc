// LearnEngine over a temp SQLite ledger: outcome labels from ledger records, and
// recommendations from similar past situations.
#include "learn/engine.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/testing/temp_dir.h"
#include "learn/situation.h"

namespace clawback::learn {
namespace {

using Json = nlohmann::json;

std::vector<std::string> Normal(int seed, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    out.push_back("2026-03-01T10:00:0" + std::to_string(i % 10) + "Z INFO http: GET /api/items/" +
                  std::to_string(seed * 100 + i) + " 200 in " + std::to_string(3 + i % 7) + "ms");
    out.push_back("2026-03-01T10:00:0" + std::to_string(i % 10) + "Z INFO worker: job " +
                  std::to_string(seed * 1000 + i) + " done");
  }
  return out;
}

std::vector<std::string> WithSignature(int seed, const std::string& kind) {
  auto lines = Normal(seed, 20);
  for (int i = 0; i < 8; ++i) {
    if (kind == "config") {
      lines.push_back("2026-03-01T10:01:0" + std::to_string(i) +
                      "Z ERROR config: cannot parse /etc/app/app.toml: unknown key 'pool_size' at line " +
                      std::to_string(10 + seed));
      lines.push_back("2026-03-01T10:01:0" + std::to_string(i) + "Z ERROR http: upstream returned 502 for /api/items");
    } else if (kind == "db") {
      lines.push_back("2026-03-01T10:01:0" + std::to_string(i) +
                      "Z WARN db: connection pool exhausted, waited " + std::to_string(100 + seed) + "ms");
      lines.push_back("2026-03-01T10:01:0" + std::to_string(i) + "Z ERROR db: deadlock detected on relation orders");
    }
  }
  return lines;
}

class LearnEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = ledger::OpenLedger("sqlite:" + (dir_ / "ledger.db").string(), clock_);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(*l);
    ASSERT_TRUE(ledger_->Migrate().ok());
    opts_.dir = (dir_ / "learn").string();
    opts_.vectorizer.dimension = 128;
    Reopen();
  }
  void TearDown() override {
    engine_.reset();
    ledger_.reset();
  }
  void Reopen() {
    engine_.reset();
    auto e = LearnEngine::Open(opts_, ledger_.get(), clock_);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(*e);
  }

  // A deployment at now_, on a fresh conversation.
  ledger::Deployment Deploy(const std::string& env, const std::string& sha, const std::string& status = "started") {
    ledger::Conversation c;
    c.id = gen_.Next();
    c.source = "test";
    c.started_at_ms = now_;
    ledger::Deployment d;
    d.id = gen_.Next();
    d.conversation_id = c.id;
    d.environment = env;
    d.commit_sha = sha;
    d.status = status;
    d.started_at_ms = now_;
    ledger::WriteBatch b;
    b.Add(c);
    b.Add(d);
    EXPECT_TRUE(ledger_->Apply(b).ok());
    now_ += 60'000;
    return d;
  }
  void Event(const ledger::Deployment& d, const std::string& kind, Json attrs) {
    attrs["deployment_id"] = d.id.ToString();
    ledger::Event e;
    e.id = gen_.Next();
    e.conversation_id = d.conversation_id;
    e.kind = kind;
    e.time_ms = now_;
    e.attributes = attrs;
    ledger::WriteBatch b;
    b.Add(e);
    EXPECT_TRUE(ledger_->Apply(b).ok());
    now_ += 60'000;
  }
  void RollBack(ledger::Deployment d, const std::string& mode = "exact") {
    d.status = "rolled_back";
    d.finished_at_ms = now_;
    ledger::RollbackRecord r;
    r.id = gen_.Next();
    r.conversation_id = d.conversation_id;
    r.target_kind = "deployment";
    r.target = d.id.ToString();
    r.mode = mode;
    r.status = "succeeded";
    r.started_at_ms = now_;
    ledger::WriteBatch b;
    b.Add(d);
    b.Add(r);
    EXPECT_TRUE(ledger_->Apply(b).ok());
    now_ += 60'000;
  }
  void Finish(ledger::Deployment d, const std::string& status) {
    d.status = status;
    d.finished_at_ms = now_;
    ledger::WriteBatch b;
    b.Add(d);
    EXPECT_TRUE(ledger_->Apply(b).ok());
  }
  void Ingest(const ledger::Deployment& d, const std::vector<std::string>& lines) {
    auto r = engine_->Ingest(d.id, lines, "test");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  test::TempDir tmp_{"clawback-learn-engine"};  // outlives the ledger and index in it
  const std::filesystem::path dir_ = tmp_.path();
  ManualClock clock_{1'772'000'000'000'000'000};
  UuidV7Generator gen_{clock_};
  int64_t now_ = 1'772'000'000'000;
  std::unique_ptr<ledger::Ledger> ledger_;
  LearnOptions opts_;
  std::unique_ptr<LearnEngine> engine_;
};

TEST_F(LearnEngineTest, OutcomeLabelsComeFromTheLedger) {
  auto healthy = Deploy("prod", "aa01");
  Event(healthy, "health_check", {{"name", "smoke"}, {"passed", true}});
  Finish(healthy, "succeeded");

  auto rolled = Deploy("prod", "aa02");
  Event(rolled, "health_check", {{"name", "smoke"}, {"passed", false}});
  RollBack(rolled, "selective");

  auto recovered = Deploy("staging", "bb01");
  Event(recovered, "health_check", {{"name", "smoke"}, {"passed", false}});
  Event(recovered, "health_check", {{"name", "smoke"}, {"passed", true}});

  auto restored = Deploy("staging", "bb02", "failed");
  Event(restored, "deployment.resolution", {{"action", "restore_file"}, {"path", "/etc/tls.pem"}});

  auto broken = Deploy("dev", "cc01", "failed");
  auto fix = Deploy("dev", "cc02", "succeeded");
  (void)fix;
  auto unresolved = Deploy("qa", "dd01", "failed");

  auto label = [&](const ledger::Deployment& d) {
    auto o = engine_->OutcomeOf(*ledger_->GetDeployment(d.id));
    EXPECT_TRUE(o.ok()) << o.status().ToString();
    return o.ok() ? o->label + "/" + o->action : std::string("error");
  };
  EXPECT_EQ(label(healthy), "healthy/none");
  EXPECT_EQ(label(rolled), "rolled_back/rollback");
  EXPECT_EQ(engine_->OutcomeOf(*ledger_->GetDeployment(rolled.id))->detail["mode"], "selective");
  EXPECT_EQ(label(recovered), "recovered/wait");
  EXPECT_EQ(engine_->OutcomeOf(*ledger_->GetDeployment(recovered.id))->resolved_after_ms, 60'000);
  EXPECT_EQ(label(restored), "resolved/restore_file");
  EXPECT_EQ(label(broken), "fixed_by_commit/revert_commit");
  EXPECT_EQ(engine_->OutcomeOf(*ledger_->GetDeployment(broken.id))->detail["fix_commit"], "cc02");
  EXPECT_EQ(label(unresolved), "failed/none");
}

TEST_F(LearnEngineTest, RecommendsWhatResolvedSimilarSituations) {
  std::vector<ledger::Deployment> config_failures, db_failures;
  for (int i = 0; i < 3; ++i) {
    auto ok = Deploy("prod", "e0" + std::to_string(i));
    Ingest(ok, Normal(i, 30));
    Finish(ok, "succeeded");
    auto bad = Deploy("prod", "f0" + std::to_string(i));
    Ingest(bad, WithSignature(i, "config"));
    Event(bad, "health_check", {{"name", "smoke"}, {"passed", false}});
    RollBack(bad);
    config_failures.push_back(bad);
    auto slow = Deploy("prod", "a0" + std::to_string(i));
    Ingest(slow, WithSignature(i + 10, "db"));
    Event(slow, "health_check", {{"name", "smoke"}, {"passed", false}});
    Event(slow, "health_check", {{"name", "smoke"}, {"passed", true}});
    db_failures.push_back(slow);
  }
  Reopen();  // advice survives a restart of the engine
  auto fourth = Deploy("prod", "f9");
  Ingest(fourth, WithSignature(7, "config"));
  auto rec = engine_->RecommendForDeployment(fourth.id);
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  ASSERT_FALSE(rec->actions.empty());
  EXPECT_TRUE(rec->confident) << rec->ToJson().dump(2);
  EXPECT_EQ(rec->actions[0].action, "rollback") << rec->ToJson().dump(2);
  EXPECT_NE(rec->actions[0].text.find(fourth.id.ToString()), std::string::npos);
  for (const auto& d : config_failures)
    EXPECT_NE(std::find(rec->actions[0].evidence.begin(), rec->actions[0].evidence.end(), d.id.ToString()),
              rec->actions[0].evidence.end())
        << d.id.ToString();
  ASSERT_GE(rec->similar.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rec->similar[static_cast<size_t>(i)].outcome.action, "rollback");
  EXPECT_FALSE(rec->error_templates.empty());

  auto slow = Deploy("prod", "a9");
  Ingest(slow, WithSignature(17, "db"));
  auto wait = engine_->RecommendForDeployment(slow.id);
  ASSERT_TRUE(wait.ok());
  ASSERT_FALSE(wait->actions.empty());
  EXPECT_EQ(wait->actions[0].action, "wait") << wait->ToJson().dump(2);
  EXPECT_NE(wait->actions[0].text.find("3 of 3 similar cases recovered within 1 min"), std::string::npos)
      << wait->actions[0].text;

  // Unrelated logs: nothing similar enough to advise.
  auto other = Deploy("prod", "b1");
  Ingest(other, {"kernel: eth0 link up 1000Mbps full duplex", "systemd: Started Daily apt download activities.",
                 "cron: (root) CMD (run-parts /etc/cron.hourly)"});
  auto none = engine_->RecommendForDeployment(other.id);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->confident) << none->ToJson().dump(2);

  // A log file not tied to a deployment.
  auto by_log = engine_->RecommendForLines(WithSignature(8, "config"), "app.log", "prod");
  ASSERT_TRUE(by_log.ok());
  ASSERT_FALSE(by_log->actions.empty());
  EXPECT_EQ(by_log->actions[0].action, "rollback");

  auto risk = engine_->Risk("prod");
  ASSERT_TRUE(risk.ok()) << risk.status().ToString();
  ASSERT_FALSE((*risk)["templates"].empty()) << risk->dump(2);
  EXPECT_GT((*risk)["incidents"].get<int>(), 0);
}

TEST_F(LearnEngineTest, IngestingAgainAddsToTheSituationAndTheIndexGrows) {
  auto d = Deploy("prod", "01");
  Ingest(d, Normal(1, 5));
  Ingest(d, Normal(2, 5));
  EXPECT_EQ(*engine_->IndexSize(), 1u);
  auto e = Deploy("prod", "02");
  Ingest(e, Normal(3, 5));
  EXPECT_EQ(*engine_->IndexSize(), 2u);
  Reopen();
  EXPECT_EQ(*engine_->IndexSize(), 2u);
  EXPECT_EQ(engine_->Ingest(gen_.Next(), {"x"}, "test").status().code(), StatusCode::kNotFound);
}

// Answers Loki's query_range like the documented API (streams of [ns, line] values).
class FakeLoki : public http::Client {
 public:
  Result<http::Response> Send(const http::Request& r) override {
    requests.push_back(r);
    return http::Response{200, R"({"status": "success", "data": {"resultType": "streams", "result": [
        {"stream": {"environment": "prod", "app": "api"},
         "values": [["1772000000300000000", "ERROR db: deadlock detected on relation orders"],
                    ["1772000000100000000", "INFO http: GET /api/items/1 200"]]},
        {"stream": {"environment": "prod", "app": "worker"},
         "values": [["1772000000200000000", "INFO worker: job 7 done"]]}]}})"};
  }
  std::vector<http::Request> requests;
};

TEST_F(LearnEngineTest, LokiQueryRangeFeedsIngest) {
  auto d = Deploy("prod", "0abc");
  FakeLoki loki;
  EXPECT_EQ(engine_->FetchLoki(*ledger_->GetDeployment(d.id), &loki).status().code(),
            StatusCode::kFailedPrecondition);  // not configured
  opts_.loki.url = "http://loki.test:3100/";
  opts_.loki.query = "{environment=\"$environment\"}";
  opts_.loki.tenant = "team-a";
  Reopen();
  auto lines = engine_->FetchLoki(*ledger_->GetDeployment(d.id), &loki);
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  ASSERT_EQ(lines->size(), 3u);  // merged across streams in time order
  EXPECT_EQ((*lines)[0], "INFO http: GET /api/items/1 200");
  EXPECT_EQ((*lines)[2], "ERROR db: deadlock detected on relation orders");
  ASSERT_EQ(loki.requests.size(), 1u);
  const auto& r = loki.requests[0];
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url.rfind("http://loki.test:3100/loki/api/v1/query_range?query=%7Benvironment%3D%22prod%22%7D&start=", 0), 0u)
      << r.url;
  EXPECT_NE(r.url.find("&start=" + std::to_string((d.started_at_ms - 300000) * 1000000) + "&"), std::string::npos) << r.url;
  EXPECT_NE(r.url.find("&direction=forward"), std::string::npos);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "X-Scope-OrgID");
  EXPECT_EQ(r.headers[0].second, "team-a");
  auto rep = engine_->Ingest(d.id, *lines, "loki");
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->lines, 3);
}

TEST(Situation, ErrorTemplatesAndVectors) {
  EXPECT_TRUE(IsErrorTemplate("<*> ERROR db: deadlock detected"));
  EXPECT_TRUE(IsErrorTemplate("upstream timed out after <*>"));
  EXPECT_TRUE(IsErrorTemplate("Warning: disk almost full"));
  EXPECT_FALSE(IsErrorTemplate("<*> INFO http: GET <*> 200 in <*>"));
  EXPECT_FALSE(IsErrorTemplate("terrors of the deep"));  // whole words only
  SituationFeatures a, b;
  a.template_counts = {{1, 10}, {2, 5}};
  b.template_counts = {{1, 10}, {2, 5}};
  a.error_templates = b.error_templates = {2};
  DocFreq df;
  VectorizerOptions o;
  auto va = Vectorize(a, df, o), vb = Vectorize(b, df, o);
  ASSERT_EQ(va.size(), 256u);
  EXPECT_NEAR(Dot(va, vb), 1.0, 1e-5);
  b.template_counts = {{3, 10}};
  b.error_templates = {};
  EXPECT_LT(Dot(va, Vectorize(b, df, o)), 0.2);
}

}  // namespace
}  // namespace clawback::learn
