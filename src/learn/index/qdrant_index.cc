#include "learn/index/qdrant_index.h"

#include "common/uuid.h"
#include "learn/situation.h"

namespace clawback::learn {
namespace qdrant {
namespace {

using Json = nlohmann::json;

std::string Base(const QdrantOptions& o) {
  std::string u = o.url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  // Collection names are [A-Za-z0-9_-] in our config; escape anything else.
  std::string c;
  for (unsigned char ch : o.collection) {
    if (std::isalnum(ch) || ch == '_' || ch == '-' || ch == '.') {
      c.push_back(static_cast<char>(ch));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", ch);
      c += buf;
    }
  }
  return u + "/collections/" + c;
}

http::Request Make(const QdrantOptions& o, std::string method, std::string url, const Json* body) {
  http::Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  if (body) {
    r.body = body->dump();
    r.headers.emplace_back("Content-Type", "application/json");
  }
  if (!o.api_key.empty()) r.headers.emplace_back("api-key", o.api_key);
  return r;
}

Json Filter(const Json& filter) {
  Json must = Json::array();
  for (auto it = filter.begin(); it != filter.end(); ++it)
    must.push_back({{"key", it.key()}, {"match", {{"value", it.value()}}}});
  return {{"must", must}};
}

}  // namespace

Json PointId(const std::string& key) {
  if (auto u = Uuid::Parse(key)) return u->ToString();
  return FeatureHash(key) >> 1;
}

http::Request GetCollection(const QdrantOptions& o) { return Make(o, "GET", Base(o), nullptr); }

http::Request CreateCollection(const QdrantOptions& o) {
  Json body = {{"vectors", {{"size", o.dimension}, {"distance", "Cosine"}}}};
  return Make(o, "PUT", Base(o), &body);
}

Result<http::Request> Upsert(const QdrantOptions& o, const std::string& key,
                           const std::vector<float>& vector, const Json& payload) {
  if (vector.size() != o.dimension)
    return InvalidArgument("qdrant: vector has " + std::to_string(vector.size()) +
                           " dimensions, the collection " + std::to_string(o.dimension));
  Json p = payload.is_object() ? payload : Json::object();
  p["key"] = key;
  Json body = {{"points", Json::array({{{"id", PointId(key)}, {"vector", vector}, {"payload", p}}})}};
  return Make(o, "PUT", Base(o) + "/points?wait=true", &body);
}

Result<http::Request> Query(const QdrantOptions& o, const std::vector<float>& vector, size_t limit,
                          const Json& filter) {
  if (vector.size() != o.dimension)
    return InvalidArgument("qdrant: query has " + std::to_string(vector.size()) +
                           " dimensions, the collection " + std::to_string(o.dimension));
  Json body = {{"query", vector}, {"limit", limit}, {"with_payload", true}};
  if (filter.is_object() && !filter.empty()) body["filter"] = Filter(filter);
  return Make(o, "POST", Base(o) + "/points/query", &body);
}

Status CheckResponse(const http::Response& r, const std::string& what) {
  Json j = Json::parse(r.body, nullptr, false);
  std::string err;
  if (!j.is_discarded() && j.is_object() && j.contains("status")) {
    const Json& s = j["status"];
    if (s.is_object() && s.contains("error") && s["error"].is_string()) err = s["error"];
    else if (s.is_string() && s != "ok") err = s.get<std::string>();
  }
  if (r.status >= 200 && r.status < 300) {
    if (j.is_discarded()) return Unavailable("qdrant " + what + ": the answer is not JSON");
    if (!err.empty()) return Unavailable("qdrant " + what + ": " + err);
    return Status::Ok();
  }
  std::string msg = "qdrant " + what + ": HTTP " + std::to_string(r.status) +
                    (err.empty() ? "" : ": " + err);
  if (r.status == 404) return NotFound(msg);
  if (r.status == 401 || r.status == 403) return PermissionDenied(msg);
  if (r.status >= 400 && r.status < 500 && r.status != 429) return InvalidArgument(msg);
  return Unavailable(msg);
}

Result<std::vector<IndexHit>> ParseHits(const http::Response& r) {
  RETURN_IF_ERROR(CheckResponse(r, "query"));
  Json j = Json::parse(r.body, nullptr, false);
  const Json* points = nullptr;
  if (j.contains("result")) {
    const Json& res = j["result"];
    if (res.is_array()) points = &res;
    else if (res.is_object() && res.contains("points") && res["points"].is_array()) points = &res["points"];
  }
  if (!points) return Unavailable("qdrant query: the answer has no result points");
  std::vector<IndexHit> out;
  for (const auto& p : *points) {
    if (!p.is_object() || !p.contains("score") || !p["score"].is_number())
      return Unavailable("qdrant query: a point without a numeric score");
    IndexHit h;
    h.score = p["score"].get<float>();
    if (p.contains("payload") && p["payload"].is_object()) h.payload = p["payload"];
    if (h.payload.contains("key") && h.payload["key"].is_string()) {
      h.key = h.payload["key"].get<std::string>();
      h.payload.erase("key");
    } else if (p.contains("id")) {
      h.key = p["id"].is_string() ? p["id"].get<std::string>() : p["id"].dump();
    }
    out.push_back(std::move(h));
  }
  return out;
}

Status ParseCollectionInfo(const http::Response& r, size_t* vector_size, size_t* points) {
  RETURN_IF_ERROR(CheckResponse(r, "collection info"));
  Json j = Json::parse(r.body, nullptr, false);
  const Json& res = j.value("result", Json::object());
  *points = res.value("points_count", size_t{0});
  *vector_size = 0;
  auto vectors = res.contains("config") ? res["config"].value("params", Json::object()).value("vectors", Json::object())
                                        : Json::object();
  if (vectors.is_object() && vectors.contains("size") && vectors["size"].is_number_unsigned())
    *vector_size = vectors["size"].get<size_t>();
  return Status::Ok();
}

}  // namespace qdrant

Result<std::unique_ptr<QdrantIndex>> QdrantIndex::Open(const QdrantOptions& options,
                                                       std::unique_ptr<http::Client> http) {
  std::unique_ptr<QdrantIndex> idx(new QdrantIndex(options, std::move(http)));
  ASSIGN_OR_RETURN(http::Response info, idx->http_->Send(qdrant::GetCollection(options)));
  if (info.status == 404) {
    ASSIGN_OR_RETURN(http::Response created, idx->http_->Send(qdrant::CreateCollection(options)));
    RETURN_IF_ERROR(qdrant::CheckResponse(created, "create collection " + options.collection));
    return idx;
  }
  size_t size = 0, points = 0;
  RETURN_IF_ERROR(qdrant::ParseCollectionInfo(info, &size, &points));
  if (size != 0 && size != options.dimension)
    return FailedPrecondition("qdrant collection " + options.collection + " has vectors of size " +
                              std::to_string(size) + ", [learn] dimension is " +
                              std::to_string(options.dimension));
  return idx;
}

Status QdrantIndex::Upsert(const std::string& key, const std::vector<float>& vector,
                           const nlohmann::json& payload) {
  ASSIGN_OR_RETURN(http::Request req, qdrant::Upsert(options_, key, vector, payload));
  ASSIGN_OR_RETURN(http::Response r, http_->Send(req));
  return qdrant::CheckResponse(r, "upsert");
}

Result<std::vector<IndexHit>> QdrantIndex::Search(const std::vector<float>& query, size_t k,
                                                  const nlohmann::json& filter) {
  if (k == 0) return std::vector<IndexHit>();
  ASSIGN_OR_RETURN(http::Request req, qdrant::Query(options_, query, k, filter));
  ASSIGN_OR_RETURN(http::Response r, http_->Send(req));
  return qdrant::ParseHits(r);
}

Result<size_t> QdrantIndex::Size() {
  ASSIGN_OR_RETURN(http::Response r, http_->Send(qdrant::GetCollection(options_)));
  size_t size = 0, points = 0;
  RETURN_IF_ERROR(qdrant::ParseCollectionInfo(r, &size, &points));
  return points;
}

}  // namespace clawback::learn
