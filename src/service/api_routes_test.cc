// The service's API routes answered both ways — in-process (the CLI's direct mode) and by a
// real server on 127.0.0.1:0 — over one temp SQLite ledger and learn state: the same
// documents, the same errors, the roles enforced.
#include "service/api_routes.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>

#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "ingest/server.h"
#include "record/direct.h"
#include "record/tokens.h"

namespace clawback::service {
namespace {

using Json = nlohmann::json;

class ApiRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = ledger::OpenLedger("sqlite:" + (dir_ / "ledger.db").string());
    ASSERT_OK(l);
    ledger_ = std::move(*l);
    ASSERT_OK(ledger_->Migrate());
    learn_ = std::make_shared<LearnService>(Config::Defaults(dir_.string()), ledger_.get());
    routes_ = ApiRoutes({ledger_.get(), learn_});
    deps_.ledger = ledger_.get();
    deps_.recommendations = LearnService::RecommendationsFn(learn_);

    admin_ = Write("POST", "/v1/tokens", {{"role", "admin"}, {"name", "me"}})["token"];
    viewer_ = Write("POST", "/v1/tokens", {{"role", "viewer"}})["token"];
    ingest_ = Write("POST", "/v1/tokens", {{"role", "ingest"}, {"name", "ci"}})["token"];

    ingest::ServerOptions so;
    so.listen = "127.0.0.1:0";
    so.threads = 2;
    so.routes = routes_;
    so.recommendations = deps_.recommendations;
    server_ = std::make_unique<ingest::IngestServer>(ledger_.get(), so);
    ASSERT_OK(server_->Start());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(30, 0);
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    learn_.reset();
    ledger_.reset();
  }

  Json Write(const std::string& method, const std::string& path, const Json& body) {
    auto r = record::WriteDirect(ledger_.get(), deps_, method, path, body, "test");
    EXPECT_OK(r) << method << " " << path;
    return r.ok() ? *r : Json();
  }
  Result<Json> Direct(const std::string& method, const std::string& path,
                      const std::map<std::string, std::string>& query = {}, const Json& body = nullptr) {
    return ingest::CallDirect(routes_, method, path, query, body);
  }
  httplib::Result Served(const std::string& method, const std::string& path,
                         const std::map<std::string, std::string>& query, const std::string& token,
                         const Json& body = nullptr) {
    httplib::Params params(query.begin(), query.end());
    std::string target = httplib::append_query_params(path, params);
    httplib::Headers h = {{"Authorization", "Bearer " + token}};
    if (method == "GET") return client_->Get(target, h);
    return client_->Post(target, h, body.dump(), "application/json");
  }

  // A conversation with a deployment to `env` that failed its health check.
  std::string FailedDeployment(const std::string& env) {
    Json c = Write("POST", "/v1/conversations", {{"title", "change"}, {"source", "test"}});
    Json d = Write("POST", "/v1/deployments",
                   {{"environment", env}, {"conversation_id", c["conversation_id"]},
                    {"commit_sha", "abc1234"}, {"attributes", {{"paths", {"etc/app.toml"}}}}});
    std::string id = d["deployment_id"];
    Write("POST", "/v1/deployments/" + id + "/checks", {{"name", "http"}, {"passed", false}});
    Write("PATCH", "/v1/deployments/" + id, {{"status", "failed"}});
    return id;
  }

  test::TempDir tmp_{"clawback-service"};  // removed after everything below is gone
  std::filesystem::path dir_ = tmp_.path();
  std::unique_ptr<ledger::Ledger> ledger_;
  std::shared_ptr<LearnService> learn_;
  std::vector<ingest::ApiRoute> routes_;
  record::RouteDeps deps_;
  std::string admin_, viewer_, ingest_;
  std::unique_ptr<ingest::IngestServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ApiRoutesTest, DirectAndServedAnswersAreTheSameDocuments) {
  std::string dep = FailedDeployment("prod");
  std::vector<std::string> lines = {"2026-12-07T10:00:00Z INFO http: GET /items 200",
                                    "2026-12-07T10:00:01Z ERROR config: cannot parse /etc/app.toml"};
  // Log ingest through the server (ingest role), then every read both ways.
  auto ing = Served("POST", "/v1/learn/logs", {}, ingest_,
                    {{"deployment_id", dep}, {"lines", lines}, {"source", "app.log"}});
  ASSERT_TRUE(ing);
  ASSERT_EQ(ing->status, 200) << ing->body;
  Json report = Json::parse(ing->body);
  EXPECT_EQ(report["lines"], 2);
  EXPECT_EQ(report["source"], "app.log");
  EXPECT_EQ(report["indexed"], 1);

  struct Case {
    std::string path;
    std::map<std::string, std::string> query;
    std::string token;
  };
  std::vector<Case> cases = {
      {"/v1/deployments", {}, viewer_},
      {"/v1/deployments", {{"environment", "prod"}, {"limit", "5"}}, viewer_},
      {"/v1/deployments/" + dep, {}, viewer_},
      {"/v1/recommendations", {{"deployment", dep}}, viewer_},
      {"/v1/risk", {{"environment", "prod"}}, viewer_},
      {"/v1/tokens", {}, admin_},
  };
  for (const auto& c : cases) {
    auto direct = Direct("GET", c.path, c.query);
    ASSERT_OK(direct) << c.path;
    auto served = Served("GET", c.path, c.query, c.token);
    ASSERT_TRUE(served);
    ASSERT_EQ(served->status, 200) << c.path << ": " << served->body;
    Json s = Json::parse(served->body);
    if (c.path == "/v1/tokens") {
      // The server's use of the tokens stamps last_used; everything else is the same.
      for (auto* doc : {&*direct, &s})
        for (auto& t : (*doc)["tokens"]) t.erase("last_used");
    }
    EXPECT_EQ(*direct, s) << c.path;
  }
  auto list = Direct("GET", "/v1/deployments");
  ASSERT_EQ((*list)["deployments"].size(), 1u);
  EXPECT_EQ((*list)["deployments"][0]["id"], dep);
  EXPECT_TRUE((*list)["deployments"][0]["outcome"].contains("label"));
  EXPECT_NE((*list)["deployments"][0]["outcome"]["label"], "healthy");
  auto show = Direct("GET", "/v1/deployments/" + dep);
  ASSERT_EQ((*show)["events"].size(), 1u);
  EXPECT_EQ((*show)["events"][0]["kind"], "health_check");
  auto tokens = Direct("GET", "/v1/tokens");
  ASSERT_EQ((*tokens)["tokens"].size(), 3u);
  EXPECT_EQ((*tokens)["tokens"][0].count("hash"), 0u);

  // Advice for log lines (POST), both ways.
  Json body = {{"lines", lines}, {"source", "stdin"}, {"environment", "prod"}};
  auto direct = Direct("POST", "/v1/recommendations", {}, body);
  ASSERT_OK(direct);
  auto served = Served("POST", "/v1/recommendations", {}, viewer_, body);
  ASSERT_EQ(served->status, 200) << served->body;
  EXPECT_EQ(*direct, Json::parse(served->body));
}

TEST_F(ApiRoutesTest, BadInputIsTheSameErrorBothWays) {
  struct Case {
    std::string method, path;
    std::map<std::string, std::string> query;
    Json body;
    StatusCode code;
    std::string field;
  };
  std::string missing = NewUuidV7().ToString();
  std::vector<Case> cases = {
      {"GET", "/v1/deployments", {{"limit", "0"}}, nullptr, StatusCode::kInvalidArgument, "limit"},
      {"GET", "/v1/deployments/nope", {}, nullptr, StatusCode::kInvalidArgument, "id"},
      {"GET", "/v1/deployments/" + missing, {}, nullptr, StatusCode::kNotFound, "id"},
      {"GET", "/v1/recommendations", {}, nullptr, StatusCode::kInvalidArgument, "deployment"},
      {"GET", "/v1/recommendations", {{"deployment", "x"}}, nullptr, StatusCode::kInvalidArgument,
       "deployment"},
      {"GET", "/v1/risk", {}, nullptr, StatusCode::kInvalidArgument, "environment"},
      {"POST", "/v1/recommendations", {}, Json{{"lines", "one line"}}, StatusCode::kInvalidArgument,
       "lines"},
      {"POST", "/v1/learn/logs", {}, Json{{"deployment_id", missing}, {"lines", Json::array()}},
       StatusCode::kNotFound, "deployment_id"},
      {"POST", "/v1/learn/logs", {}, Json{{"deployment_id", missing}, {"loki", "yes"}},
       StatusCode::kInvalidArgument, "loki"},
      {"POST", "/v1/learn/logs", {}, Json{{"lines", Json::array()}}, StatusCode::kInvalidArgument,
       "deployment_id"},
  };
  for (const auto& c : cases) {
    auto direct = Direct(c.method, c.path, c.query, c.body);
    ASSERT_FALSE(direct.ok()) << c.path;
    EXPECT_EQ(direct.status().code(), c.code) << c.path << ": " << direct.status().ToString();
    EXPECT_NE(direct.status().message().find("(field " + c.field + ")"), std::string::npos)
        << direct.status().ToString();
    auto served = Served(c.method, c.path, c.query, admin_, c.body);
    ASSERT_TRUE(served);
    EXPECT_EQ(served->status, c.code == StatusCode::kNotFound ? 404 : 400) << served->body;
    Json err = Json::parse(served->body)["error"];
    EXPECT_EQ(err["field"], c.field) << served->body;
    EXPECT_EQ(direct.status().message(), err["message"].get<std::string>() + " (field " + c.field + ")");
  }
}

TEST_F(ApiRoutesTest, RolesAreEnforced) {
  auto r = Served("GET", "/v1/tokens", {}, viewer_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403) << r->body;
  r = Served("POST", "/v1/learn/logs", {}, viewer_, {{"deployment_id", NewUuidV7().ToString()}});
  EXPECT_EQ(r->status, 403) << r->body;
  r = Served("GET", "/v1/deployments", {}, "cbk_not-a-token");
  EXPECT_EQ(r->status, 401) << r->body;
  // Token writes are admin-only too.
  r = Served("POST", "/v1/tokens", {}, ingest_, {{"role", "admin"}});
  EXPECT_EQ(r->status, 403) << r->body;
}

TEST_F(ApiRoutesTest, TokensCreatedAndRevokedThroughTheServer) {
  auto r = Served("POST", "/v1/tokens", {}, admin_, {{"role", "viewer"}, {"name", "grafana"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  Json made = Json::parse(r->body);
  std::string token = made["token"];
  EXPECT_EQ(token.rfind("cbk_", 0), 0u);
  EXPECT_EQ(made["role"], "viewer");
  auto found = ledger_->FindTokenByHash(record::HashToken(token));
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->name, "grafana");
  EXPECT_EQ(Served("GET", "/v1/deployments", {}, token)->status, 200);

  std::string id = made["id"];
  r = Served("POST", "/v1/tokens/" + id + "/revoke", {}, admin_);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["already_revoked"], false);
  EXPECT_EQ(Json::parse(r->body)["revoked"], true);
  r = Served("POST", "/v1/tokens/" + id + "/revoke", {}, admin_);
  EXPECT_EQ(Json::parse(r->body)["already_revoked"], true);
  r = Served("POST", "/v1/tokens/" + NewUuidV7().ToString() + "/revoke", {}, admin_);
  EXPECT_EQ(r->status, 404) << r->body;
  r = Served("POST", "/v1/tokens", {}, admin_, {{"role", "root"}});
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_EQ(Json::parse(r->body)["error"]["field"], "role");
}

}  // namespace
}  // namespace clawback::service
