// A small metrics registry: counters, gauges and histograms with labels, exposed as
// Prometheus text (format 0.0.4) or OpenMetrics 1.0 text with exemplars.
//
// Model. A Registry holds metric families. A family has a name, a help text, a type and
// a fixed list of label names; each distinct list of label values is one series (a
// Counter, Gauge or Histogram object). Series are created on first use and live as long
// as the registry, so hot paths look a series up once and keep the pointer/reference.
//
// Exporters (Prometheus text here; OTLP and Loki elsewhere) do not reach into the
// families: they call Registry::Collect(), which returns a plain-value snapshot
// (MetricFamilySnapshot), and format that. Collectors registered with AddCollector() run
// at the start of every Collect() to refresh gauges that are read from elsewhere (e.g. the
// ledger's size).
//
// Names follow Prometheus conventions: counters are registered WITHOUT the `_total`
// suffix (it is added on exposition, as OpenMetrics requires); units are base units
// (seconds, bytes).
//
// Thread-safety: everything here is safe to call from many threads. Counter/Gauge updates
// are lock-free; Histogram::Observe takes a short per-series lock only to record an
// exemplar.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace clawback::telemetry {

enum class MetricType { kCounter, kGauge, kHistogram };

// An exemplar: one observed value tied to a trace (OpenMetrics 1.0, section "Exemplars").
struct Exemplar {
  double value = 0;
  std::string trace_id;       // 32 lowercase hex digits
  int64_t time_unix_nanos = 0;
};

class Counter {
 public:
  // REQUIRES: v >= 0 (counters only go up; negative values are ignored).
  void Inc(double v = 1);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: the upper bounds of the finite buckets, strictly increasing; +Inf is implied.
  Histogram(std::vector<double> bounds, const Clock* clock);
  void Observe(double v);
  // Records `v` and remembers it as its bucket's exemplar for `trace_id_hex`.
  void Observe(double v, std::string_view trace_id_hex);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // bounds.size() + 1 entries, the last is +Inf
    std::vector<std::optional<Exemplar>> exemplars;  // one per bucket, like cumulative
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Take() const;

 private:
  size_t BucketFor(double v) const;
  const std::vector<double> bounds_;
  const Clock* clock_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
  mutable std::mutex exemplar_mu_;
  std::vector<std::optional<Exemplar>> exemplars_;  // GUARDED_BY(exemplar_mu_)
};

// Default latency buckets in seconds: 0.5 ms … 10 s.
std::vector<double> DefaultLatencyBuckets();

// One series of a snapshot.
struct SeriesSnapshot {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;                          // counter or gauge
  std::optional<Histogram::Snapshot> histogram;  // histogram
};

struct MetricFamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<SeriesSnapshot> series;
};

// A family of series sharing a name and label names. T is Counter, Gauge or Histogram.
template <typename T>
class Family {
 public:
  // The series for these label values (in the order of the family's label names),
  // created on first use. REQUIRES: values.size() == label names' size.
  T& WithLabels(const std::vector<std::string>& values);
  // For a family without labels.
  T& Get() { return WithLabels({}); }

 private:
  friend class Registry;
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<T>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        make_(std::move(make)) {}
  std::vector<std::pair<std::vector<std::string>, const T*>> List() const;

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<T>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_;  // GUARDED_BY(mu_)
};

class Registry {
 public:
  explicit Registry(const Clock& clock = SystemClock()) : clock_(&clock) {}
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering a name twice returns the first family when type and labels agree.
  // REQUIRES: names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*
  // (CHECKed: names are chosen by the program, never by input).
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> bounds = DefaultLatencyBuckets());

  // Runs before every Collect(), on the collecting thread.
  void AddCollector(std::function<void()> fn);

  // A snapshot of every family, in registration order; series sorted by label values.
  std::vector<MetricFamilySnapshot> Collect() const;

  // Prometheus text exposition format 0.0.4.
  std::string ExposePrometheus() const;
  // OpenMetrics 1.0 text, with exemplars on histogram buckets, ending in "# EOF".
  std::string ExposeOpenMetrics() const;

 private:
  struct Entry {
    MetricType type;
    std::vector<std::string> label_names;
    std::unique_ptr<Family<Counter>> counter;
    std::unique_ptr<Family<Gauge>> gauge;
    std::unique_ptr<Family<Histogram>> histogram;
  };
  Entry* FindOrNull(const std::string& name, MetricType type,
                    const std::vector<std::string>& label_names);
  const Clock* clock_;
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, std::unique_ptr<Entry>>> entries_;  // GUARDED_BY(mu_)
  std::vector<std::function<void()>> collectors_;                         // GUARDED_BY(mu_)
};

// Content types of the two formats.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

// True when an HTTP Accept header asks for OpenMetrics.
bool WantsOpenMetrics(std::string_view accept_header);

// Formats a sample value as the text formats want it: integers without a fraction,
// "+Inf"/"-Inf"/"NaN", otherwise the shortest round-tripping decimal.
std::string FormatSampleValue(double v);

}  // namespace clawback::telemetry
