// A load client for `clawback serve`, run as its own process (bench/ingest/run).
//
//   ingest_load --url http://127.0.0.1:PORT --token T --mode batch   [--seconds 10]
//               [--connections 2] [--batch 200] [--sessions 50]
//     posts arrays of OpenClaw hook events (before/after_tool_call pairs of exec calls,
//     spread over --sessions session keys) as fast as the server answers, and reports
//     sustained events/s.
//   ingest_load ... --mode latency [--rate 1000] [--seconds 10] [--connections 8]
//     sends single-event requests open-loop at --rate requests/s (each request has a
//     scheduled send time; latency counts from it, so a stalled server is not hidden by
//     the client waiting) and reports p50/p99/max latency in ms.
//     --trace N also prints to stderr the stalls (runs of requests over 10 ms, by send
//     time, with wall-clock times to line up with server logs) and the N slowest requests.
// Output: one JSON object on stdout.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 18800;
  std::string token;
  std::string mode = "batch";
  double seconds = 10;
  int connections = 2;
  int batch = 200;
  int sessions = 50;
  double rate = 1000;
  int trace = 0;  // latency mode: print the stalls and this many slowest requests
};

// A before_tool_call or after_tool_call event shaped like OpenClaw 2026.9.6's, with the
// session's key, id and run id and the call's id given as text.
Json ToolEventWith(bool before, const std::string& session, const std::string& session_id,
                   const std::string& call) {
  std::string key = "agent:main:bench-" + session;
  std::string sid = "00000000-0000-4000-8000-" + session_id;
  std::string call_id = "call_" + call;
  Json event = {{"toolName", "exec"},
                {"params", {{"command", "echo hi > /tmp/bench/out.txt"}}},
                {"runId", "run-" + session},
                {"toolCallId", call_id}};
  if (!before) {
    event["result"] = {{"content", {{{"type", "text"}, {"text", "(no output)"}}}},
                       {"details", {{"status", "completed"}, {"exitCode", 0}, {"durationMs", 5},
                                    {"cwd", "/tmp/bench"}}}};
    event["durationMs"] = 9;
  }
  Json ctx = {{"toolName", "exec"}, {"agentId", "main"}, {"sessionKey", key}, {"sessionId", sid},
              {"runId", "run-" + session}, {"toolCallId", call_id}};
  if (before)
    ctx["trace"] = {{"traceId", "a5475fa110f5e1024181b13214724214"},
                    {"spanId", "39dcd91a8b2d116d"}, {"traceFlags", "01"}};
  return {{"hook", before ? "before_tool_call" : "after_tool_call"}, {"event", event}, {"ctx", ctx}};
}

Json ToolEvent(bool before, int session, uint64_t call) {
  return ToolEventWith(before, std::to_string(session),
                       std::to_string(100000000000 + session), std::to_string(call));
}

// The same events' JSON text, rendered by concatenation from a template made once: the load
// client's own CPU comes out of the same two cores as the server's, so it must stay small
// next to what it measures. main() checks that the text equals ToolEvent(...).dump().
class ToolEventText {
 public:
  explicit ToolEventText(bool before) {
    // Placeholders that occur nowhere else in the event.
    const std::string text = ToolEventWith(before, "\x01", "\x02", "\x03").dump();
    size_t from = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '\\' || i + 5 >= text.size() || text.compare(i, 5, "\\u000") != 0) continue;
      parts_.push_back(text.substr(from, i - from));
      slots_.push_back(text[i + 5] - '1');
      from = i + 6;
      i += 5;
    }
    parts_.push_back(text.substr(from));
  }
  void Append(std::string* out, int session, uint64_t call) const {
    const std::string values[3] = {std::to_string(session),
                                   std::to_string(100000000000 + session), std::to_string(call)};
    for (size_t k = 0; k < slots_.size(); ++k) {
      *out += parts_[k];
      *out += values[slots_[k]];
    }
    *out += parts_.back();
  }

 private:
  std::vector<std::string> parts_;
  std::vector<int> slots_;
};

httplib::Headers Headers(const Options& o) { return {{"Authorization", "Bearer " + o.token}}; }

int RunBatch(const Options& o) {
  std::atomic<uint64_t> events{0}, requests{0}, errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> ts;
  auto t0 = Clock::now();
  for (int c = 0; c < o.connections; ++c) {
    ts.emplace_back([&, c] {
      httplib::Client cli(o.host, o.port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      cli.set_read_timeout(60, 0);
      uint64_t call = static_cast<uint64_t>(c) << 40;
      const ToolEventText before(true), after(false);
      std::string body;
      while (!stop.load()) {
        body.clear();
        body.push_back('[');
        int n = 0;
        for (int i = 0; i < o.batch; i += 2) {
          int s = static_cast<int>((call / 2) % static_cast<uint64_t>(o.sessions));
          before.Append(&body, s, call);
          body += ',';
          after.Append(&body, s, call);
          body += ',';
          n += 2;
          call += 2;
        }
        body.back() = ']';
        auto r = cli.Post("/v1/openclaw/events", Headers(o), body, "application/json");
        if (!r || r->status != 200) {
          ++errors;
          if (r && errors.load() < 3) std::fprintf(stderr, "HTTP %d: %s\n", r->status, r->body.c_str());
          continue;
        }
        events += n;
        ++requests;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  stop = true;
  for (auto& t : ts) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  Json out = {{"mode", "batch"}, {"connections", o.connections}, {"batch", o.batch},
              {"seconds", secs}, {"events", events.load()}, {"requests", requests.load()},
              {"errors", errors.load()}, {"events_per_second", events.load() / secs}};
  std::printf("%s\n", out.dump().c_str());
  return errors.load() == 0 ? 0 : 1;
}

// Wall-clock text (UTC, to the millisecond) of `t`, given that `t0` was `wall0`.
std::string WallTime(std::chrono::system_clock::time_point wall0, Clock::time_point t0,
                     Clock::time_point t) {
  auto wall = wall0 + std::chrono::duration_cast<std::chrono::system_clock::duration>(t - t0);
  std::time_t secs = std::chrono::system_clock::to_time_t(wall);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%02d:%02d:%02d.%03lld", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(ms));
  return buf;
}

int RunLatency(const Options& o) {
  const auto interval = std::chrono::duration<double>(1.0 / o.rate);
  const int64_t total = static_cast<int64_t>(o.rate * o.seconds);
  std::atomic<int64_t> next{0};
  std::atomic<uint64_t> errors{0};
  // Each request's latency by its index (the send schedule's order); -1 for an error.
  std::vector<double> by_index(static_cast<size_t>(total), -1);
  std::vector<std::thread> ts;
  auto start = Clock::now() + std::chrono::milliseconds(100);
  auto wall_start = std::chrono::system_clock::now() + std::chrono::milliseconds(100);
  for (int c = 0; c < o.connections; ++c) {
    ts.emplace_back([&] {
      httplib::Client cli(o.host, o.port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      cli.set_read_timeout(30, 0);
      for (;;) {
        int64_t i = next.fetch_add(1);
        if (i >= total) return;
        auto scheduled = start + std::chrono::duration_cast<Clock::duration>(interval * i);
        std::this_thread::sleep_until(scheduled);
        Json ev = ToolEvent(i % 2 == 0, static_cast<int>((i / 2) % o.sessions),
                            static_cast<uint64_t>(i / 2));
        auto r = cli.Post("/v1/openclaw/events", Headers(o), ev.dump(), "application/json");
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - scheduled).count();
        if (!r || r->status != 200) {
          ++errors;
          continue;
        }
        by_index[static_cast<size_t>(i)] = ms;  // each index is written by one thread only
      }
    });
  }
  for (auto& t : ts) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (double ms : by_index)
    if (ms >= 0) all.push_back(ms);
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    if (all.empty()) return 0.0;
    size_t idx = std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())));
    return all[idx];
  };
  if (o.trace > 0) {
    auto sent = [&](int64_t i) {
      return start + std::chrono::duration_cast<Clock::duration>(interval * i);
    };
    auto at_ms = [&](int64_t i) { return 1000.0 * static_cast<double>(i) / o.rate; };
    // Stalls: runs of requests (in send order) that took over 10 ms, gaps of up to 5 fast
    // requests inside a run allowed.
    std::fprintf(stderr, "stalls (requests over 10 ms; time = send time since start):\n");
    for (int64_t i = 0; i < total;) {
      if (by_index[i] <= 10) {
        ++i;
        continue;
      }
      int64_t first = i, last = i, slow = 0;
      double worst = 0;
      for (int64_t j = i; j < total && j <= last + 5; ++j) {
        if (by_index[j] > 10) {
          last = j;
          ++slow;
          worst = std::max(worst, by_index[j]);
        }
      }
      std::fprintf(stderr, "  t=%8.1f ms (%s UTC): %lld requests over 10 ms in %.0f ms, worst %.1f ms\n",
                   at_ms(first), WallTime(wall_start, start, sent(first)).c_str(),
                   static_cast<long long>(slow), at_ms(last) - at_ms(first) + 1000.0 / o.rate, worst);
      i = last + 1;
    }
    std::vector<int64_t> order;
    for (int64_t i = 0; i < total; ++i)
      if (by_index[i] >= 0) order.push_back(i);
    size_t n = std::min(order.size(), static_cast<size_t>(o.trace));
    std::partial_sort(order.begin(), order.begin() + n, order.end(),
                      [&](int64_t a, int64_t b) { return by_index[a] > by_index[b]; });
    std::fprintf(stderr, "slowest %zu requests:\n", n);
    for (size_t k = 0; k < n; ++k) {
      int64_t i = order[k];
      std::fprintf(stderr, "  #%lld t=%8.1f ms (%s UTC): %.2f ms\n", static_cast<long long>(i),
                   at_ms(i), WallTime(wall_start, start, sent(i)).c_str(), by_index[i]);
    }
  }
  Json out = {{"mode", "latency"}, {"target_rate", o.rate}, {"connections", o.connections},
              {"requests", all.size()}, {"errors", errors.load()},
              {"achieved_rate", static_cast<double>(all.size()) / secs},
              {"p50_ms", pct(0.50)}, {"p90_ms", pct(0.90)}, {"p99_ms", pct(0.99)},
              {"max_ms", all.empty() ? 0.0 : all.back()}};
  std::printf("%s\n", out.dump().c_str());
  return errors.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--url") {
      // http://HOST:PORT
      std::string rest = v.substr(v.find("//") == std::string::npos ? 0 : v.find("//") + 2);
      size_t colon = rest.rfind(':');
      o.host = rest.substr(0, colon);
      o.port = std::atoi(rest.substr(colon + 1).c_str());
    } else if (k == "--token") {
      o.token = v;
    } else if (k == "--mode") {
      o.mode = v;
    } else if (k == "--seconds") {
      o.seconds = std::atof(v.c_str());
    } else if (k == "--connections") {
      o.connections = std::max(1, std::atoi(v.c_str()));
    } else if (k == "--batch") {
      o.batch = std::max(2, std::atoi(v.c_str()));
    } else if (k == "--sessions") {
      o.sessions = std::max(1, std::atoi(v.c_str()));
    } else if (k == "--rate") {
      o.rate = std::atof(v.c_str());
    } else if (k == "--trace") {
      o.trace = std::max(0, std::atoi(v.c_str()));
    } else {
      std::fprintf(stderr, "ingest_load: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  for (bool b : {true, false}) {
    std::string text;
    ToolEventText(b).Append(&text, 7, 1234567);
    if (text != ToolEvent(b, 7, 1234567).dump()) {
      std::fprintf(stderr, "ingest_load: the event template renders\n%s\ninstead of\n%s\n",
                   text.c_str(), ToolEvent(b, 7, 1234567).dump().c_str());
      return 2;
    }
  }
  if (o.token.empty()) {
    std::fprintf(stderr, "ingest_load: --token is required\n");
    return 2;
  }
  return o.mode == "latency" ? RunLatency(o) : RunBatch(o);
}
