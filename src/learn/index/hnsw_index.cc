#include "learn/index/hnsw_index.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace clawback::learn {
namespace fs = std::filesystem;

struct HnswIndex::Impl {
  explicit Impl(size_t dim) : space(dim) {}
  hnswlib::InnerProductSpace space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
};

namespace {

std::string GraphPath(const std::string& dir) { return dir + "/situations.hnsw"; }
std::string MetaPath(const std::string& dir) { return dir + "/situations.json"; }

Status WriteFileAtomic(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return ErrnoStatus("create " + tmp, errno);
  bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  ok = std::fflush(f) == 0 && ok;
  ok = ::fsync(fileno(f)) == 0 && ok;
  if (std::fclose(f) != 0 || !ok) return IOError("write " + tmp + " failed");
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return IOError("rename " + tmp + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

bool PayloadMatches(const nlohmann::json& payload, const nlohmann::json& filter) {
  if (!filter.is_object()) return true;
  for (auto it = filter.begin(); it != filter.end(); ++it) {
    if (!payload.is_object() || !payload.contains(it.key()) || payload[it.key()] != it.value())
      return false;
  }
  return true;
}

HnswIndex::HnswIndex(HnswOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(options_.dimension)) {}
HnswIndex::~HnswIndex() = default;

Result<std::unique_ptr<HnswIndex>> HnswIndex::Open(const HnswOptions& options) {
  if (options.dimension < 2) return InvalidArgument("hnsw: dimension must be at least 2");
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return IOError("create " + options.dir + ": " + ec.message());
  std::unique_ptr<HnswIndex> idx(new HnswIndex(options));
  const std::string meta_path = MetaPath(options.dir);
  if (fs::exists(meta_path)) {
    std::ifstream in(meta_path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto meta = nlohmann::json::parse(ss.str(), nullptr, false);
    if (meta.is_discarded() || !meta.is_object() || !meta.contains("keys") ||
        !meta["keys"].is_array() || !meta.contains("dimension"))
      return Corruption(meta_path + ": not a situation index file");
    size_t dim = meta.value("dimension", size_t{0});
    if (dim != options.dimension)
      return FailedPrecondition(meta_path + ": the index has dimension " + std::to_string(dim) +
                                ", the config asks for " + std::to_string(options.dimension) +
                                " (run `clawback learn reindex`)");
    for (const auto& k : meta["keys"]) idx->keys_.push_back(k.get<std::string>());
    const auto& payloads = meta.value("payloads", nlohmann::json::array());
    for (size_t i = 0; i < idx->keys_.size(); ++i) {
      idx->payloads_.push_back(i < payloads.size() ? payloads[i] : nlohmann::json::object());
      idx->labels_[idx->keys_[i]] = i;
    }
    if (!idx->keys_.empty()) {
      try {
        idx->impl_->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(
            &idx->impl_->space, GraphPath(options.dir), false,
            std::max<size_t>(16, idx->keys_.size() * 2));
      } catch (const std::exception& e) {
        return Corruption(GraphPath(options.dir) + ": " + e.what());
      }
      // The graph is renamed into place before the key list, so after a crash between the
      // two it may hold extra (unnamed, skipped) points, never fewer.
      if (idx->impl_->graph->cur_element_count < idx->keys_.size())
        return Corruption(GraphPath(options.dir) + ": holds " +
                          std::to_string(idx->impl_->graph->cur_element_count) +
                          " points, " + meta_path + " names " +
                          std::to_string(idx->keys_.size()));
    }
  }
  return idx;
}

Status HnswIndex::Upsert(const std::string& key, const std::vector<float>& vector,
                         const nlohmann::json& payload) {
  if (vector.size() != options_.dimension)
    return InvalidArgument("hnsw: vector has " + std::to_string(vector.size()) +
                           " dimensions, the index " + std::to_string(options_.dimension));
  try {
    if (!impl_->graph) {
      impl_->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(
          &impl_->space, 64, options_.m, options_.ef_construction, /*random_seed=*/100);
    }
    auto& g = *impl_->graph;
    auto found = labels_.find(key);
    size_t label;
    if (found != labels_.end()) {
      label = found->second;
      payloads_[label] = payload;
    } else {
      label = keys_.size();
      if (g.cur_element_count >= g.max_elements_) g.resizeIndex(g.max_elements_ * 2);
      keys_.push_back(key);
      payloads_.push_back(payload);
      labels_[key] = label;
    }
    g.addPoint(vector.data(), static_cast<hnswlib::labeltype>(label));
  } catch (const std::exception& e) {
    return Internal(std::string("hnsw: ") + e.what());
  }
  dirty_ = true;
  return Status::Ok();
}

Result<std::vector<IndexHit>> HnswIndex::Search(const std::vector<float>& query, size_t k,
                                                const nlohmann::json& filter) {
  std::vector<IndexHit> out;
  if (query.size() != options_.dimension)
    return InvalidArgument("hnsw: query has " + std::to_string(query.size()) +
                           " dimensions, the index " + std::to_string(options_.dimension));
  if (!impl_->graph || keys_.empty() || k == 0) return out;
  const bool filtered = filter.is_object() && !filter.empty();
  // hnswlib 0.6 has no filtered search: over-fetch, then filter.
  size_t want = filtered ? std::min(keys_.size(), std::max<size_t>(k * 8, 64)) : std::min(k, keys_.size());
  try {
    impl_->graph->setEf(std::max(options_.ef_search, want));
    auto pq = impl_->graph->searchKnn(query.data(), want);
    std::vector<std::pair<float, size_t>> hits;
    while (!pq.empty()) {
      hits.emplace_back(pq.top().first, static_cast<size_t>(pq.top().second));
      pq.pop();
    }
    std::sort(hits.begin(), hits.end());  // smallest distance first
    for (auto [dist, label] : hits) {
      if (label >= keys_.size()) continue;
      if (filtered && !PayloadMatches(payloads_[label], filter)) continue;
      out.push_back({keys_[label], 1.0f - dist, payloads_[label]});
      if (out.size() == k) break;
    }
  } catch (const std::exception& e) {
    return Internal(std::string("hnsw: ") + e.what());
  }
  return out;
}

Status HnswIndex::Flush() {
  if (!dirty_) return Status::Ok();
  if (impl_->graph) {
    std::string tmp = GraphPath(options_.dir) + ".tmp";
    try {
      impl_->graph->saveIndex(tmp);
    } catch (const std::exception& e) {
      return IOError("write " + tmp + ": " + e.what());
    }
    std::error_code ec;
    fs::rename(tmp, GraphPath(options_.dir), ec);
    if (ec) return IOError("rename " + tmp + ": " + ec.message());
  }
  nlohmann::json meta = {{"format", 1},
                         {"dimension", options_.dimension},
                         {"space", "cosine"},
                         {"keys", keys_},
                         {"payloads", payloads_}};
  RETURN_IF_ERROR(WriteFileAtomic(MetaPath(options_.dir), meta.dump()));
  dirty_ = false;
  return Status::Ok();
}

}  // namespace clawback::learn
