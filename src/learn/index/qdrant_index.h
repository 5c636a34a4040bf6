// QdrantIndex: situation fingerprints in a Qdrant (>= 1.12) collection, over its REST API:
//   GET  /collections/{c}                       exists? (404: create it) and points_count
//   PUT  /collections/{c}                       {"vectors": {"size": D, "distance": "Cosine"}}
//   PUT  /collections/{c}/points?wait=true      {"points": [{"id", "vector", "payload"}]}
//   POST /collections/{c}/points/query          {"query": [..], "limit", "with_payload": true,
//                                                "filter": {"must": [{"key", "match": {"value"}}]}}
// Answers are {"result": …, "status": "ok", "time": s}; errors carry
// {"status": {"error": "…"}}. A point id is the key when it is a UUID (deployment ids are),
// else the key's 63-bit FNV hash; the key itself is kept in the payload as "key".
// An API key, when set, goes in the `api-key` header.
//
// The request builders and response parsers are exposed so tests check them against the
// documented API without a server.
//
// Thread-safety: not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "http/client.h"
#include "learn/index/vector_index.h"

namespace clawback::learn {

struct QdrantOptions {
  std::string url = "http://127.0.0.1:6333";
  std::string collection = "clawback_situations";
  std::string api_key;
  size_t dimension = 256;
};

namespace qdrant {
http::Request GetCollection(const QdrantOptions& o);
http::Request CreateCollection(const QdrantOptions& o);
// InvalidArgument when the vector's size is not the dimension.
Result<http::Request> Upsert(const QdrantOptions& o, const std::string& key,
                           const std::vector<float>& vector, const nlohmann::json& payload);
Result<http::Request> Query(const QdrantOptions& o, const std::vector<float>& vector, size_t limit,
                          const nlohmann::json& filter);
// The point id for a key: the UUID string itself, or an unsigned integer.
nlohmann::json PointId(const std::string& key);
// OK for a 2xx answer whose "status" is "ok"; otherwise the error Qdrant reported
// (NotFound for 404, InvalidArgument for other 4xx, Unavailable for 5xx).
Status CheckResponse(const http::Response& r, const std::string& what);
// Hits from a /points/query answer ({"result": {"points": [...]}}) or a legacy
// /points/search answer ({"result": [...]}).
Result<std::vector<IndexHit>> ParseHits(const http::Response& r);
// The collection's vector size and points_count from GET /collections/{c}.
Status ParseCollectionInfo(const http::Response& r, size_t* vector_size, size_t* points);
}  // namespace qdrant

class QdrantIndex : public VectorIndex {
 public:
  // Checks the collection, creating it when missing; FailedPrecondition when it exists with
  // another vector size.
  static Result<std::unique_ptr<QdrantIndex>> Open(const QdrantOptions& options,
                                                   std::unique_ptr<http::Client> http);

  // VectorIndex
  std::string_view kind() const override { return "qdrant"; }
  size_t dimension() const override { return options_.dimension; }
  Status Upsert(const std::string& key, const std::vector<float>& vector,
                const nlohmann::json& payload) override;
  Result<std::vector<IndexHit>> Search(const std::vector<float>& query, size_t k,
                                       const nlohmann::json& filter) override;
  Result<size_t> Size() override;
  Status Flush() override { return Status::Ok(); }  // every upsert waits (wait=true)

 private:
  QdrantIndex(QdrantOptions o, std::unique_ptr<http::Client> http)
      : options_(std::move(o)), http_(std::move(http)) {}
  QdrantOptions options_;
  std::unique_ptr<http::Client> http_;
};

}  // namespace clawback::learn
