#include "telemetry/metrics.h"

#include <fcntl.h>
#include <unistd.h>
#include <ctime>

#include "telemetry/process_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

namespace clawback::telemetry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Metrics, CounterWithLabelsPrometheusText) {
  Registry r;
  auto& req = r.AddCounter("clawback_http_requests", "HTTP requests by route and status.",
                           {"route", "code"});
  req.WithLabels({"/v1/events", "200"}).Inc();
  req.WithLabels({"/v1/events", "200"}).Inc(2);
  req.WithLabels({"/v1/events", "400"}).Inc();
  std::string text = r.ExposePrometheus();
  EXPECT_THAT(text, HasSubstr("# HELP clawback_http_requests_total HTTP requests by route and status.\n"
                              "# TYPE clawback_http_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("clawback_http_requests_total{route=\"/v1/events\",code=\"200\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("clawback_http_requests_total{route=\"/v1/events\",code=\"400\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("# EOF")));
}

TEST(Metrics, CounterIgnoresNegative) {
  Registry r;
  auto& c = r.AddCounter("x", "x").Get();
  c.Inc(5);
  c.Inc(-3);
  EXPECT_EQ(c.Value(), 5);
}

TEST(Metrics, GaugeAndEscaping) {
  Registry r;
  r.AddGauge("clawback_build_info", "Build \"info\"\\ line\nnext", {"version"})
      .WithLabels({"0.1.0 \"q\" \\ \n"})
      .Set(1);
  std::string text = r.ExposePrometheus();
  EXPECT_THAT(text, HasSubstr("# HELP clawback_build_info Build \"info\"\\\\ line\\nnext\n"));
  EXPECT_THAT(text, HasSubstr("clawback_build_info{version=\"0.1.0 \\\"q\\\" \\\\ \\n\"} 1\n"));
  std::string om = r.ExposeOpenMetrics();
  EXPECT_THAT(om, HasSubstr("# HELP clawback_build_info Build \\\"info\\\"\\\\ line\\nnext\n"));
}

TEST(Metrics, HistogramBucketsAreCumulativeAndLessOrEqual) {
  Registry r;
  auto& h = r.AddHistogram("lat_seconds", "latency", {}, {0.1, 1}).Get();
  h.Observe(0.05);
  h.Observe(0.1);  // on the bound: counts in le="0.1"
  h.Observe(0.5);
  h.Observe(7);
  auto s = h.Take();
  ASSERT_EQ(s.cumulative.size(), 3u);
  EXPECT_EQ(s.cumulative[0], 2u);
  EXPECT_EQ(s.cumulative[1], 3u);
  EXPECT_EQ(s.cumulative[2], 4u);
  EXPECT_EQ(s.count, 4u);
  EXPECT_DOUBLE_EQ(s.sum, 7.65);
  std::string text = r.ExposePrometheus();
  EXPECT_THAT(text, HasSubstr("# TYPE lat_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{le=\"0.1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{le=\"1\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{le=\"+Inf\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_sum 7.65\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_count 4\n"));
}

TEST(Metrics, OpenMetricsHasExemplarsAndEof) {
  ManualClock clock(1'700'000'000'123'000'000);
  Registry r(clock);
  r.AddCounter("reqs", "requests").Get().Inc();
  auto& h = r.AddHistogram("ingest_seconds", "ingest latency", {"route"}, {0.01, 0.1});
  h.WithLabels({"/v1/openclaw/events"}).Observe(0.004, "0190f0c2a1b27c3d8e9f001122334455");
  h.WithLabels({"/v1/openclaw/events"}).Observe(0.05);
  std::string om = r.ExposeOpenMetrics();
  EXPECT_THAT(om, HasSubstr("# TYPE reqs counter\nreqs_total 1\n"));
  EXPECT_THAT(om, HasSubstr("ingest_seconds_bucket{route=\"/v1/openclaw/events\",le=\"0.01\"} 1 "
                            "# {trace_id=\"0190f0c2a1b27c3d8e9f001122334455\"} 0.004 "
                            "1700000000.123\n"));
  EXPECT_THAT(om, HasSubstr("ingest_seconds_bucket{route=\"/v1/openclaw/events\",le=\"0.1\"} 2\n"));
  EXPECT_TRUE(om.size() >= 6 && om.substr(om.size() - 6) == "# EOF\n");
  // Plain Prometheus text never carries exemplars.
  EXPECT_THAT(r.ExposePrometheus(), Not(HasSubstr("trace_id")));
}

TEST(Metrics, CollectorsRunBeforeCollect) {
  Registry r;
  auto& g = r.AddGauge("ledger_size_bytes", "size").Get();
  int calls = 0;
  r.AddCollector([&] { g.Set(++calls * 100); });
  EXPECT_THAT(r.ExposePrometheus(), HasSubstr("ledger_size_bytes 100\n"));
  auto fams = r.Collect();
  ASSERT_EQ(fams.size(), 1u);
  EXPECT_EQ(fams[0].series[0].value, 200);
}

TEST(Metrics, SameNameReturnsSameFamily) {
  Registry r;
  auto& a = r.AddCounter("c", "c", {"x"});
  auto& b = r.AddCounter("c", "c", {"x"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(r.Collect().size(), 1u);
}

TEST(Metrics, ConcurrentUpdatesAreCounted) {
  Registry r;
  auto& fam = r.AddCounter("n", "n", {"t"});
  auto& h = r.AddHistogram("h", "h", {}).Get();
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        fam.WithLabels({"a"}).Inc();
        h.Observe(0.001, "00000000000000000000000000000001");
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(fam.WithLabels({"a"}).Value(), 40000);
  EXPECT_EQ(h.Take().count, 40000u);
}

TEST(Metrics, FormatSampleValue) {
  EXPECT_EQ(FormatSampleValue(3), "3");
  EXPECT_EQ(FormatSampleValue(0.25), "0.25");
  EXPECT_EQ(FormatSampleValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatSampleValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatSampleValue(0.0 / 0.0), "NaN");
  EXPECT_TRUE(WantsOpenMetrics("application/openmetrics-text; version=1.0.0,text/plain;q=0.5"));
  EXPECT_FALSE(WantsOpenMetrics("text/plain"));
}

TEST(ProcessMetrics, ReadThisProcess) {
  ProcessSample a = ReadProcessSample();
  EXPECT_GT(a.resident_bytes, 1 << 20);
  EXPECT_GE(a.virtual_bytes, a.resident_bytes);
  EXPECT_GT(a.max_fds, 0);
  double now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(a.start_time_seconds, now - 3600);
  EXPECT_LE(a.start_time_seconds, now + 2);
  int fd = ::open("/dev/null", O_RDONLY);
  ProcessSample b = ReadProcessSample();
  ::close(fd);
  EXPECT_EQ(b.open_fds, a.open_fds + 1);
  volatile double x = 0;
  for (int i = 0; i < 30000000; ++i) x = x + i;  // some CPU time
  EXPECT_GT(ReadProcessSample().cpu_seconds, a.cpu_seconds);

  Registry r;
  AddProcessMetrics(&r);
  std::string text = r.ExposePrometheus();
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter\n"));
  EXPECT_THAT(text, HasSubstr("\nprocess_resident_memory_bytes "));
  EXPECT_THAT(text, HasSubstr("\nprocess_open_fds "));
  EXPECT_THAT(text, HasSubstr("\nprocess_start_time_seconds "));
}

}  // namespace
}  // namespace clawback::telemetry
