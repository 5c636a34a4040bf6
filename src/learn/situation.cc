#include "learn/situation.h"

#include <cctype>
#include <cmath>

namespace clawback::learn {
namespace {

constexpr std::string_view kErrorWords[] = {
    "error",   "err",       "errors",   "fatal",     "fail",      "failed",   "failure",
    "failing", "exception", "panic",    "critical",  "crit",      "warn",     "warning",
    "refused", "timeout",   "timedout", "denied",    "unavailable", "traceback", "oom",
    "oomkilled", "killed",  "crash",    "crashed",   "abort",     "aborted",  "unhealthy",
    "invalid", "corrupt",   "rejected", "unreachable", "expired"};

bool IsErrorWord(std::string_view w) {
  for (auto e : kErrorWords)
    if (w == e) return true;
  return false;
}

void Normalize(std::vector<double>* v) {
  double n = 0;
  for (double x : *v) n += x * x;
  if (n <= 0) return;
  n = std::sqrt(n);
  for (double& x : *v) x /= n;
}

// Adds `w` at the feature's hashed slot with a hash-derived sign (keeps collisions unbiased).
void AddHashed(std::vector<double>* block, std::string_view feature, double w) {
  uint64_t h = FeatureHash(feature);
  size_t slot = static_cast<size_t>(h % block->size());
  (*block)[slot] += (h >> 63) ? -w : w;
}

}  // namespace

uint64_t FeatureHash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  // Final avalanche so the top bit (the sign) and the low bits (the slot) are independent.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

bool IsErrorTemplate(std::string_view text) {
  std::string word;
  auto flush = [&]() {
    bool hit = !word.empty() && IsErrorWord(word);
    word.clear();
    return hit;
  };
  for (char c : text) {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (flush()) {
      return true;
    }
  }
  if (flush()) return true;
  // "timed out" as two words.
  std::string lower;
  for (char c : text) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return lower.find("timed out") != std::string::npos ||
         lower.find("no space left") != std::string::npos;
}

std::vector<float> Vectorize(const SituationFeatures& s, const DocFreq& df,
                             const VectorizerOptions& o) {
  const size_t dim = static_cast<size_t>(o.dimension < 8 ? 8 : o.dimension);
  const size_t hashed = dim - 2;

  std::vector<double> tmpl(hashed, 0.0);
  for (const auto& [id, count] : s.template_counts) {
    if (count == 0) continue;
    double tf = 1.0 + std::log(static_cast<double>(count));
    auto it = df.df.find(id);
    double d = it == df.df.end() ? 0.0 : static_cast<double>(it->second);
    double idf = std::log((1.0 + static_cast<double>(df.documents)) / (1.0 + d)) + 1.0;
    double w = tf * idf * (s.error_templates.count(id) ? o.error_boost : 1.0);
    AddHashed(&tmpl, "t:" + std::to_string(id), w);
  }
  Normalize(&tmpl);

  std::vector<double> changes(hashed, 0.0);
  for (const auto& p : s.paths) {
    AddHashed(&changes, "p:" + p, 1.0);
    auto slash = p.rfind('/');
    if (slash != std::string::npos && slash > 0) AddHashed(&changes, "d:" + p.substr(0, slash), 0.5);
  }
  for (const auto& svc : s.services) AddHashed(&changes, "s:" + svc, 1.0);
  Normalize(&changes);

  std::vector<double> env(hashed, 0.0);
  if (!s.environment.empty()) AddHashed(&env, "e:" + s.environment, 1.0);

  std::vector<double> v(dim, 0.0);
  for (size_t i = 0; i < hashed; ++i)
    v[i] = o.template_weight * tmpl[i] + o.change_weight * changes[i] +
           o.environment_weight * env[i];
  if (s.time_ms > 0 && o.time_weight > 0) {
    double hour = static_cast<double>((s.time_ms / 1000) % 86400) / 3600.0;
    double angle = hour / 24.0 * 2.0 * M_PI;
    v[dim - 2] = o.time_weight * std::cos(angle);
    v[dim - 1] = o.time_weight * std::sin(angle);
  }
  Normalize(&v);
  return std::vector<float>(v.begin(), v.end());
}

float Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(d);
}

}  // namespace clawback::learn
