// VectorIndex: where situation fingerprints live and are searched by cosine similarity.
// Implementations: HnswIndex (embedded, hnswlib, persisted in the data dir; the default)
// and QdrantIndex (a Qdrant >= 1.12 server over its REST API), chosen by [learn] index in
// the config (OpenVectorIndex in learn/engine.h).
//
// Keys are strings (deployment UUIDs); an Upsert of a known key replaces its vector and
// payload. A filter is a JSON object of payload equalities ({"environment": "prod"}).
//
// Thread-safety: not thread-safe; callers serialise.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace clawback::learn {

struct IndexHit {
  std::string key;
  float score = 0;  // cosine similarity, 1 = identical direction
  nlohmann::json payload = nlohmann::json::object();
};

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;
  virtual std::string_view kind() const = 0;  // "hnsw", "qdrant"
  virtual size_t dimension() const = 0;
  // REQUIRES: vector.size() == dimension(); InvalidArgument otherwise.
  virtual Status Upsert(const std::string& key, const std::vector<float>& vector,
                        const nlohmann::json& payload) = 0;
  // The best `k` hits, best first, whose payload matches every (key, value) in `filter`.
  virtual Result<std::vector<IndexHit>> Search(const std::vector<float>& query, size_t k,
                                               const nlohmann::json& filter) = 0;
  // Points stored.
  virtual Result<size_t> Size() = 0;
  // Makes every Upsert so far durable (HNSW writes its files; Qdrant waits on each upsert).
  virtual Status Flush() = 0;
};

}  // namespace clawback::learn
