#include "telemetry/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "common/status.h"

namespace clawback::telemetry {
namespace {

bool ValidMetricName(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool ValidLabelName(std::string_view n) {
  if (n.empty() || n == "le") return false;  // "le" is reserved for histogram buckets
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Label values: backslash, double quote and line feed are escaped (both formats).
void AppendEscapedLabelValue(std::string* out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': *out += "\\\\"; break;
      case '"': *out += "\\\""; break;
      case '\n': *out += "\\n"; break;
      default: out->push_back(c);
    }
  }
}

// HELP text: backslash and line feed (Prometheus 0.0.4); OpenMetrics also escapes '"'.
std::string EscapeHelp(std::string_view v, bool openmetrics) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && openmetrics) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string LabelSet(const std::vector<std::pair<std::string, std::string>>& labels,
                     const std::pair<std::string, std::string>* extra) {
  if (labels.empty() && extra == nullptr) return "";
  std::string out = "{";
  bool first = true;
  auto add = [&](const std::string& k, const std::string& v) {
    if (!first) out += ",";
    first = false;
    out += k;
    out += "=\"";
    AppendEscapedLabelValue(&out, v);
    out += "\"";
  };
  for (const auto& [k, v] : labels) add(k, v);
  if (extra) add(extra->first, extra->second);
  out += "}";
  return out;
}

std::string FormatTimestampSeconds(int64_t unix_nanos) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(unix_nanos / 1000000000),
                static_cast<long long>((unix_nanos / 1000000) % 1000));
  return buf;
}

std::string Expose(const std::vector<MetricFamilySnapshot>& families, bool openmetrics) {
  std::string out;
  out.reserve(4096);
  for (const auto& f : families) {
    const char* type = f.type == MetricType::kCounter  ? "counter"
                       : f.type == MetricType::kGauge ? "gauge"
                                                      : "histogram";
    // Prometheus 0.0.4 names the counter family by its sample name (with _total);
    // OpenMetrics names the family without the suffix.
    std::string family_name = f.name;
    if (f.type == MetricType::kCounter && !openmetrics) family_name += "_total";
    out += "# HELP " + family_name + " " + EscapeHelp(f.help, openmetrics) + "\n";
    out += "# TYPE " + family_name + " " + type + "\n";
    for (const auto& s : f.series) {
      if (f.type != MetricType::kHistogram) {
        out += f.name;
        if (f.type == MetricType::kCounter) out += "_total";
        out += LabelSet(s.labels, nullptr);
        out += " " + FormatSampleValue(s.value) + "\n";
        continue;
      }
      const Histogram::Snapshot& h = *s.histogram;
      for (size_t i = 0; i < h.cumulative.size(); ++i) {
        std::pair<std::string, std::string> le{
            "le", i < h.bounds.size() ? FormatSampleValue(h.bounds[i]) : "+Inf"};
        out += f.name + "_bucket" + LabelSet(s.labels, &le) + " " +
               FormatSampleValue(static_cast<double>(h.cumulative[i]));
        if (openmetrics && h.exemplars[i]) {
          const Exemplar& e = *h.exemplars[i];
          out += " # {trace_id=\"";
          AppendEscapedLabelValue(&out, e.trace_id);
          out += "\"} " + FormatSampleValue(e.value) + " " +
                 FormatTimestampSeconds(e.time_unix_nanos);
        }
        out += "\n";
      }
      out += f.name + "_sum" + LabelSet(s.labels, nullptr) + " " + FormatSampleValue(h.sum) + "\n";
      out += f.name + "_count" + LabelSet(s.labels, nullptr) + " " +
             FormatSampleValue(static_cast<double>(h.count)) + "\n";
    }
  }
  if (openmetrics) out += "# EOF\n";
  return out;
}

}  // namespace

std::string FormatSampleValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
    return buf;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

bool WantsOpenMetrics(std::string_view accept) {
  return accept.find("application/openmetrics-text") != std::string_view::npos;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

void Counter::Inc(double v) {
  if (!(v >= 0)) return;
  value_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> bounds, const Clock* clock)
    : bounds_(std::move(bounds)),
      clock_(clock),
      counts_(new std::atomic<uint64_t>[bounds_.size() + 1]),
      exemplars_(bounds_.size() + 1) {
  for (size_t i = 1; i < bounds_.size(); ++i) CLAWBACK_CHECK(bounds_[i - 1] < bounds_[i]);
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

size_t Histogram::BucketFor(double v) const {
  // The first bucket whose upper bound is >= v (buckets are "less than or equal").
  return static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
}

void Histogram::Observe(double v) {
  if (std::isnan(v)) return;
  counts_[BucketFor(v)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::Observe(double v, std::string_view trace_id_hex) {
  if (std::isnan(v)) return;
  size_t b = BucketFor(v);
  counts_[b].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  if (trace_id_hex.empty()) return;
  Exemplar e{v, std::string(trace_id_hex), clock_->NowUnixNanos()};
  std::lock_guard<std::mutex> lock(exemplar_mu_);
  exemplars_[b] = std::move(e);
}

Histogram::Snapshot Histogram::Take() const {
  Snapshot s;
  s.bounds = bounds_;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t run = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    run += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = run;
  }
  // Count is the +Inf bucket so the exposition stays self-consistent under concurrent
  // observations (count_ may be a few ahead of the buckets read above).
  s.count = run;
  s.sum = sum_.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(exemplar_mu_);
  s.exemplars = exemplars_;
  return s;
}

template <typename T>
T& Family<T>::WithLabels(const std::vector<std::string>& values) {
  CLAWBACK_CHECK(values.size() == label_names_.size());
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(values);
  if (it == series_.end()) it = series_.emplace(values, make_()).first;
  return *it->second;
}

template <typename T>
std::vector<std::pair<std::vector<std::string>, const T*>> Family<T>::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::vector<std::string>, const T*>> out;
  out.reserve(series_.size());
  for (const auto& [k, v] : series_) out.emplace_back(k, v.get());
  return out;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry::Entry* Registry::FindOrNull(const std::string& name, MetricType type,
                                      const std::vector<std::string>& label_names) {
  CLAWBACK_CHECK(ValidMetricName(name));
  for (const auto& l : label_names) CLAWBACK_CHECK(ValidLabelName(l));
  for (auto& [n, e] : entries_) {
    if (n != name) continue;
    CLAWBACK_CHECK(e->type == type && e->label_names == label_names);
    return e.get();
  }
  return nullptr;
}

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Entry* e = FindOrNull(name, MetricType::kCounter, label_names)) return *e->counter;
  auto e = std::make_unique<Entry>();
  e->type = MetricType::kCounter;
  e->label_names = label_names;
  e->counter.reset(new Family<Counter>(name, help, std::move(label_names),
                                       [] { return std::make_unique<Counter>(); }));
  auto& ref = *e->counter;
  entries_.emplace_back(name, std::move(e));
  return ref;
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Entry* e = FindOrNull(name, MetricType::kGauge, label_names)) return *e->gauge;
  auto e = std::make_unique<Entry>();
  e->type = MetricType::kGauge;
  e->label_names = label_names;
  e->gauge.reset(new Family<Gauge>(name, help, std::move(label_names),
                                   [] { return std::make_unique<Gauge>(); }));
  auto& ref = *e->gauge;
  entries_.emplace_back(name, std::move(e));
  return ref;
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Entry* e = FindOrNull(name, MetricType::kHistogram, label_names)) return *e->histogram;
  auto e = std::make_unique<Entry>();
  e->type = MetricType::kHistogram;
  e->label_names = label_names;
  const Clock* clock = clock_;
  e->histogram.reset(new Family<Histogram>(
      name, help, std::move(label_names),
      [bounds, clock] { return std::make_unique<Histogram>(bounds, clock); }));
  auto& ref = *e->histogram;
  entries_.emplace_back(name, std::move(e));
  return ref;
}

void Registry::AddCollector(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(fn));
}

std::vector<MetricFamilySnapshot> Registry::Collect() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    collectors = collectors_;
  }
  for (const auto& c : collectors) c();

  std::lock_guard<std::mutex> lock(mu_);
  std::vector<MetricFamilySnapshot> out;
  out.reserve(entries_.size());
  for (const auto& entry : entries_) {
    // Not a structured binding: clang before 16 cannot capture one in the lambda below.
    const std::string& name = entry.first;
    const auto& e = entry.second;
    MetricFamilySnapshot f;
    f.name = name;
    f.type = e->type;
    auto labels_of = [&](const std::vector<std::string>& values) {
      std::vector<std::pair<std::string, std::string>> l;
      for (size_t i = 0; i < values.size(); ++i) l.emplace_back(e->label_names[i], values[i]);
      return l;
    };
    switch (e->type) {
      case MetricType::kCounter:
        f.help = e->counter->help_;
        for (const auto& [values, c] : e->counter->List())
          f.series.push_back({labels_of(values), c->Value(), std::nullopt});
        break;
      case MetricType::kGauge:
        f.help = e->gauge->help_;
        for (const auto& [values, g] : e->gauge->List())
          f.series.push_back({labels_of(values), g->Value(), std::nullopt});
        break;
      case MetricType::kHistogram:
        f.help = e->histogram->help_;
        for (const auto& [values, h] : e->histogram->List())
          f.series.push_back({labels_of(values), 0, h->Take()});
        break;
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::string Registry::ExposePrometheus() const { return Expose(Collect(), false); }
std::string Registry::ExposeOpenMetrics() const { return Expose(Collect(), true); }

}  // namespace clawback::telemetry
