// QdrantIndex against the documented REST API: request building and response parsing on
// their own, then the curl client against a small fake Qdrant on 127.0.0.1:0 that checks
// every request it gets.
#include "learn/index/qdrant_index.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <mutex>
#include <thread>

namespace clawback::learn {
namespace {

using Json = nlohmann::json;

QdrantOptions Opts() {
  QdrantOptions o;
  o.url = "http://qdrant.test:6333/";
  o.collection = "situations";
  o.dimension = 3;
  return o;
}

std::string Header(const http::Request& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

TEST(QdrantRequests, CreateCollectionIsAPutWithSizeAndCosine) {
  auto r = qdrant::CreateCollection(Opts());
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.url, "http://qdrant.test:6333/collections/situations");
  EXPECT_EQ(Json::parse(r.body), Json::parse(R"({"vectors": {"size": 3, "distance": "Cosine"}})"));
  EXPECT_EQ(Header(r, "Content-Type"), "application/json");
  EXPECT_EQ(Header(r, "api-key"), "");
  auto g = qdrant::GetCollection(Opts());
  EXPECT_EQ(g.method, "GET");
  EXPECT_EQ(g.url, "http://qdrant.test:6333/collections/situations");
  EXPECT_TRUE(g.body.empty());
}

TEST(QdrantRequests, UpsertWaitsAndCarriesIdVectorAndPayload) {
  QdrantOptions o = Opts();
  o.api_key = "s3cret";
  const std::string key = "01936f0e-7a52-7c4e-9f00-3c1d2e4f5a6b";
  auto r = qdrant::Upsert(o, key, {0.5f, 0.25f, 0.0f}, {{"environment", "prod"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->method, "PUT");
  EXPECT_EQ(r->url, "http://qdrant.test:6333/collections/situations/points?wait=true");
  EXPECT_EQ(Header(*r, "api-key"), "s3cret");
  Json want = {{"points", Json::array({{{"id", key},
                                        {"vector", {0.5, 0.25, 0.0}},
                                        {"payload", {{"environment", "prod"}, {"key", key}}}}})}};
  EXPECT_EQ(Json::parse(r->body), want);
  // A key that is not a UUID becomes an unsigned integer id; the key stays in the payload.
  auto n = qdrant::Upsert(o, "log:/tmp/x.log", {1, 0, 0}, Json::object());
  ASSERT_TRUE(n.ok());
  Json p = Json::parse(n->body)["points"][0];
  EXPECT_TRUE(p["id"].is_number_unsigned());
  EXPECT_EQ(p["payload"]["key"], "log:/tmp/x.log");
  EXPECT_EQ(qdrant::Upsert(o, key, {1, 0}, Json::object()).status().code(), StatusCode::kInvalidArgument);
}

TEST(QdrantRequests, QueryWithAFilterOfMustMatchConditions) {
  auto r = qdrant::Query(Opts(), {1, 0, 0}, 5, {{"environment", "prod"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->url, "http://qdrant.test:6333/collections/situations/points/query");
  Json want = Json::parse(R"({"query": [1.0, 0.0, 0.0], "limit": 5, "with_payload": true,
      "filter": {"must": [{"key": "environment", "match": {"value": "prod"}}]}})");
  EXPECT_EQ(Json::parse(r->body), want);
  auto nf = qdrant::Query(Opts(), {1, 0, 0}, 2, Json::object());
  ASSERT_TRUE(nf.ok());
  EXPECT_FALSE(Json::parse(nf->body).contains("filter"));
}

TEST(QdrantResponses, ParsesQueryAndLegacySearchAnswers) {
  // POST /points/query (Qdrant >= 1.10): result.points.
  http::Response q{200, R"({"result": {"points": [
      {"id": "01936f0e-7a52-7c4e-9f00-3c1d2e4f5a6b", "version": 3, "score": 0.97,
       "payload": {"environment": "prod", "key": "01936f0e-7a52-7c4e-9f00-3c1d2e4f5a6b"}},
      {"id": 42, "version": 1, "score": 0.5, "payload": {}}]},
      "status": "ok", "time": 0.002})"};
  auto hits = qdrant::ParseHits(q);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].key, "01936f0e-7a52-7c4e-9f00-3c1d2e4f5a6b");
  EXPECT_FLOAT_EQ((*hits)[0].score, 0.97f);
  EXPECT_EQ((*hits)[0].payload, Json({{"environment", "prod"}}));
  EXPECT_EQ((*hits)[1].key, "42");
  // POST /points/search (older servers): result is the array.
  http::Response s{200, R"({"result": [{"id": 7, "version": 0, "score": 0.8, "payload": {"key": "k7"}}],
      "status": "ok", "time": 0.001})"};
  auto legacy = qdrant::ParseHits(s);
  ASSERT_TRUE(legacy.ok());
  ASSERT_EQ(legacy->size(), 1u);
  EXPECT_EQ((*legacy)[0].key, "k7");
}

TEST(QdrantResponses, ErrorsCarryQdrantsMessage) {
  http::Response bad{400, R"({"status": {"error": "Wrong input: Vector dimension error: expected dim: 3, got 2"}, "time": 0.0})"};
  Status st = qdrant::CheckResponse(bad, "upsert");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("Vector dimension error"), std::string::npos) << st.message();
  EXPECT_EQ(qdrant::CheckResponse({404, R"({"status": {"error": "Not found: Collection `x` doesn't exist!"}})"}, "q").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(qdrant::CheckResponse({503, "busy"}, "q").code(), StatusCode::kUnavailable);
  EXPECT_EQ(qdrant::CheckResponse({200, "not json"}, "q").code(), StatusCode::kUnavailable);
  EXPECT_EQ(qdrant::ParseHits({200, R"({"result": {"points": [{"id": 1}]}, "status": "ok"})"}).status().code(),
            StatusCode::kUnavailable);
  size_t size = 0, points = 0;
  ASSERT_TRUE(qdrant::ParseCollectionInfo(
                  {200, R"({"result": {"status": "green", "points_count": 12,
                     "config": {"params": {"vectors": {"size": 256, "distance": "Cosine"}}}},
                     "status": "ok", "time": 0.0})"},
                  &size, &points)
                  .ok());
  EXPECT_EQ(size, 256u);
  EXPECT_EQ(points, 12u);
}

// A fake Qdrant: one collection, exact cosine search, strict about request shapes.
class FakeQdrant {
 public:
  FakeQdrant() {
    srv_.Get("/collections/situations", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu_);
      log_.push_back("GET collection");
      if (size_ == 0) {
        res.status = 404;
        res.set_content(R"({"status": {"error": "Not found: Collection `situations` doesn't exist!"}, "time": 0})", "application/json");
        return;
      }
      Json j = {{"result", {{"status", "green"}, {"points_count", points_.size()},
                            {"config", {{"params", {{"vectors", {{"size", size_}, {"distance", "Cosine"}}}}}}}}},
                {"status", "ok"}, {"time", 0.0}};
      res.set_content(j.dump(), "application/json");
    });
    srv_.Put("/collections/situations", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu_);
      log_.push_back("PUT collection");
      Json b = Json::parse(req.body, nullptr, false);
      if (req.get_header_value("Content-Type") != "application/json" || !b.contains("vectors") ||
          b["vectors"].value("distance", "") != "Cosine" || !b["vectors"]["size"].is_number_unsigned()) {
        res.status = 400;
        res.set_content(R"({"status": {"error": "bad create"}})", "application/json");
        return;
      }
      size_ = b["vectors"]["size"];
      res.set_content(R"({"result": true, "status": "ok", "time": 0.01})", "application/json");
    });
    srv_.Put("/collections/situations/points", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu_);
      log_.push_back("PUT points wait=" + req.get_param_value("wait"));
      Json b = Json::parse(req.body, nullptr, false);
      if (b.is_discarded() || !b.contains("points")) {
        res.status = 400;
        return;
      }
      for (const auto& p : b["points"]) {
        if (p["vector"].size() != size_) {
          res.status = 400;
          res.set_content(R"({"status": {"error": "Wrong input: Vector dimension error"}})", "application/json");
          return;
        }
        points_[p["id"].dump()] = p;
      }
      res.set_content(R"({"result": {"operation_id": 1, "status": "completed"}, "status": "ok", "time": 0.001})",
                      "application/json");
    });
    srv_.Post("/collections/situations/points/query", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu_);
      Json b = Json::parse(req.body, nullptr, false);
      log_.push_back("POST query" + std::string(b.contains("filter") ? " filtered" : ""));
      std::vector<std::pair<double, Json>> scored;
      for (const auto& [id, p] : points_) {
        bool ok = true;
        if (b.contains("filter"))
          for (const auto& c : b["filter"]["must"])
            ok = ok && p["payload"].value(c["key"].get<std::string>(), Json()) == c["match"]["value"];
        if (!ok) continue;
        double dot = 0;
        for (size_t i = 0; i < size_; ++i) dot += p["vector"][i].get<double>() * b["query"][i].get<double>();
        scored.emplace_back(dot, p);
      }
      std::sort(scored.begin(), scored.end(), [](auto& x, auto& y) { return x.first > y.first; });
      Json pts = Json::array();
      for (size_t i = 0; i < scored.size() && i < b["limit"].get<size_t>(); ++i)
        pts.push_back({{"id", scored[i].second["id"]}, {"version", 0}, {"score", scored[i].first},
                       {"payload", scored[i].second["payload"]}});
      res.set_content(Json({{"result", {{"points", pts}}}, {"status", "ok"}, {"time", 0.0}}).dump(),
                      "application/json");
    });
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
    while (!srv_.is_running()) std::this_thread::yield();
  }
  ~FakeQdrant() {
    srv_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> log() {
    std::lock_guard<std::mutex> l(mu_);
    return log_;
  }

 private:
  httplib::Server srv_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  size_t size_ = 0;
  std::map<std::string, Json> points_;
  std::vector<std::string> log_;
};

TEST(QdrantIndex, CreatesUpsertsAndSearchesAgainstAFakeServer) {
  FakeQdrant fake;
  QdrantOptions o = Opts();
  o.url = fake.url();
  auto idx = QdrantIndex::Open(o, http::NewClient({.timeout = std::chrono::seconds(5)}));
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  const std::string a = "01936f0e-7a52-7c4e-9f00-3c1d2e4f5a6b", b = "01936f0e-7a52-7c4e-9f00-3c1d2e4f5a6c";
  ASSERT_TRUE((*idx)->Upsert(a, {1, 0, 0}, {{"environment", "prod"}}).ok());
  ASSERT_TRUE((*idx)->Upsert(b, {0.6f, 0.8f, 0}, {{"environment", "dev"}}).ok());
  EXPECT_EQ((*idx)->Upsert(b, {1, 0}, Json::object()).code(), StatusCode::kInvalidArgument);
  auto hits = (*idx)->Search({0.6f, 0.8f, 0}, 2, Json::object());
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].key, b);
  EXPECT_NEAR((*hits)[0].score, 1.0, 1e-5);
  EXPECT_EQ((*hits)[0].payload["environment"], "dev");
  auto prod = (*idx)->Search({0.6f, 0.8f, 0}, 2, {{"environment", "prod"}});
  ASSERT_TRUE(prod.ok());
  ASSERT_EQ(prod->size(), 1u);
  EXPECT_EQ((*prod)[0].key, a);
  EXPECT_EQ(*(*idx)->Size(), 2u);
  // Reopening finds the collection and does not create it again.
  idx->reset();
  auto again = QdrantIndex::Open(o, http::NewClient({.timeout = std::chrono::seconds(5)}));
  ASSERT_TRUE(again.ok());
  o.dimension = 4;
  EXPECT_EQ(QdrantIndex::Open(o, http::NewClient({.timeout = std::chrono::seconds(5)})).status().code(),
            StatusCode::kFailedPrecondition);
  std::vector<std::string> want = {"GET collection", "PUT collection", "PUT points wait=true",
                                   "PUT points wait=true", "POST query", "POST query filtered",
                                   "GET collection", "GET collection", "GET collection"};
  EXPECT_EQ(fake.log(), want);
}

TEST(QdrantIndex, AnUnreachableServerIsUnavailable) {
  QdrantOptions o = Opts();
  o.url = "http://127.0.0.1:1";  // nothing listens on port 1
  auto idx = QdrantIndex::Open(o, http::NewClient({.timeout = std::chrono::seconds(2)}));
  EXPECT_EQ(idx.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace clawback::learn
