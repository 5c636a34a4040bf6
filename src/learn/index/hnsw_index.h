// HnswIndex: the embedded vector index, hnswlib's HNSW graph over inner products of unit
// vectors (= cosine similarity), persisted as two files in one directory:
//   <dir>/situations.hnsw   hnswlib's own index file (saveIndex/loadIndex)
//   <dir>/situations.json   {"format": 1, "dimension": D, "keys": [...], "payloads": [...]}
//                           where label i of the graph is keys[i]
// Both are written to temporary files and renamed (json last), so a crash leaves the last
// flushed state. Inserts are incremental: the graph grows (capacity doubles) and is never
// rebuilt; an Upsert of a known key updates that point in place. docs/format/learn.md.
//
// Thread-safety: not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "learn/index/vector_index.h"

namespace clawback::learn {

struct HnswOptions {
  std::string dir;  // created if missing
  size_t dimension = 256;
  size_t m = 16;
  size_t ef_construction = 200;
  size_t ef_search = 64;
};

class HnswIndex : public VectorIndex {
 public:
  // Loads the index in options.dir, or starts an empty one. FailedPrecondition when the
  // stored dimension differs; Corruption when the files do not load.
  static Result<std::unique_ptr<HnswIndex>> Open(const HnswOptions& options);
  ~HnswIndex() override;

  // VectorIndex
  std::string_view kind() const override { return "hnsw"; }
  size_t dimension() const override { return options_.dimension; }
  Status Upsert(const std::string& key, const std::vector<float>& vector,
                const nlohmann::json& payload) override;
  Result<std::vector<IndexHit>> Search(const std::vector<float>& query, size_t k,
                                       const nlohmann::json& filter) override;
  Result<size_t> Size() override { return keys_.size(); }
  Status Flush() override;

 private:
  struct Impl;
  explicit HnswIndex(HnswOptions options);
  HnswOptions options_;
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> keys_;  // label -> key
  std::vector<nlohmann::json> payloads_;
  std::unordered_map<std::string, size_t> labels_;
  bool dirty_ = false;
};

// True when every (key, value) of `filter` equals the payload's value.
bool PayloadMatches(const nlohmann::json& payload, const nlohmann::json& filter);

}  // namespace clawback::learn
