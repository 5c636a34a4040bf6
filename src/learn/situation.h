// Situation fingerprints: what the learning system knows about one deployment (or the
// failed health check / rollback that belongs to it), and the fixed-dimension vector the
// similarity index stores for it.
//
// A vector has four blocks, each L2-normalised on its own, scaled by its weight, then the
// whole vector normalised (so cosine similarity is an inner product):
//   templates  TF-IDF over mined log-template ids (sublinear tf, smoothed idf from a
//              frozen document-frequency snapshot), error/warning templates boosted,
//              signed feature hashing into `dimension - 2` slots;
//   changes    changed paths (and each path's directory) and services, hashed the same way;
//   environment  the environment name, hashed;
//   time       hour of day as a point on the unit circle (the last two slots).
// docs/format/learn.md describes the on-disk state that holds these.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace clawback::learn {

// Document frequencies of template ids over the situations at the last snapshot.
struct DocFreq {
  int64_t documents = 0;
  std::map<uint64_t, int64_t> df;
};

struct SituationFeatures {
  std::string id;  // the deployment id
  std::string environment;
  std::string commit_sha;
  int64_t time_ms = 0;
  std::map<uint64_t, uint64_t> template_counts;  // template id -> lines
  std::set<uint64_t> error_templates;            // ids whose text reads as an error/warning
  std::vector<std::string> paths;                // changed files
  std::vector<std::string> services;
};

struct VectorizerOptions {
  int dimension = 256;  // >= 8
  double template_weight = 1.0;
  double error_boost = 3.0;  // multiplies an error/warning template's tf-idf
  double change_weight = 0.35;
  double environment_weight = 0.1;
  double time_weight = 0.05;
};

// True when a template's text reads as an error or a warning (error, fatal, exception,
// panic, refused, timed out, denied, OOM, …; case-insensitive, whole words).
bool IsErrorTemplate(std::string_view text);

// The unit-length fingerprint vector (all zeros only for an empty situation).
std::vector<float> Vectorize(const SituationFeatures& s, const DocFreq& df,
                             const VectorizerOptions& options);

// Cosine similarity of two unit vectors (their dot product).
float Dot(const std::vector<float>& a, const std::vector<float>& b);

// A stable 64-bit hash (FNV-1a) for feature hashing.
uint64_t FeatureHash(std::string_view s);

}  // namespace clawback::learn
