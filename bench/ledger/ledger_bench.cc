// ledger_bench: fills a ledger with N events (default 1,000,000, in conversations of 500
// events whose events interleave in time, as concurrent agents' do), written through
// ApplyGroup in batches as the ingest server writes them, then measures GetTrace latency
// for random 500-event conversations (p50/p90/p99/max) and VerifyChain over everything.
//
//   ledger_bench [--url URL] [--events N] [--per-conversation M] [--batch B] [--group G]
//                [--samples S] [--json]
// Without --url: SQLite in a temp dir (removed afterwards). bench/ledger/run runs it on
// SQLite and on a throw-away PostgreSQL.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "ledger/ledger.h"

using namespace clawback;
using namespace clawback::ledger;

namespace {

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

[[noreturn]] void Die(const std::string& what, const Status& st) {
  std::fprintf(stderr, "ledger_bench: %s: %s\n", what.c_str(), st.ToString().c_str());
  std::exit(1);
}

// CPU seconds (user + system) used by this process so far.
double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  int64_t events = 1'000'000;
  int64_t per_conversation = 500;
  int batch_size = 500;
  int group_size = 8;
  int samples = 300;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "ledger_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--url") url = next();
    else if (a == "--events") events = std::stoll(next());
    else if (a == "--per-conversation") per_conversation = std::stoll(next());
    else if (a == "--batch") batch_size = std::stoi(next());
    else if (a == "--group") group_size = std::stoi(next());
    else if (a == "--samples") samples = std::stoi(next());
    else if (a == "--json") json = true;
    else {
      std::fprintf(stderr,
                   "usage: ledger_bench [--url URL] [--events N] [--per-conversation M] "
                   "[--batch B] [--group G] [--samples S] [--json]\n");
      return 2;
    }
  }
  std::string temp_dir;
  if (url.empty()) {
    char tmpl[] = "/tmp/clawback-ledger-bench.XXXXXX";
    if (!mkdtemp(tmpl)) {
      std::perror("mkdtemp");
      return 1;
    }
    temp_dir = tmpl;
    url = "sqlite:" + temp_dir + "/ledger.db";
  }
  auto opened = OpenLedger(url);
  if (!opened.ok()) Die("open " + url, opened.status());
  std::unique_ptr<Ledger> ledger = std::move(opened).value();
  if (Status st = ledger->Migrate(); !st.ok()) Die("migrate", st);

  const int64_t conversations = std::max<int64_t>(1, events / per_conversation);
  const int64_t base_ms = 1'790'000'000'000;
  UuidV7Generator ids;
  std::vector<Uuid> conv_ids(conversations);

  // The conversations, in groups of batches.

  {
    std::vector<WriteBatch> batches;
    for (int64_t k = 0; k < conversations; ++k) {
      if (batches.empty() || static_cast<int>(batches.back().ops.size()) >= batch_size) {
        batches.emplace_back();
      }
      Conversation c;
      c.id = ids.Next();
      conv_ids[k] = c.id;
      c.source = "openclaw";
      c.title = "conversation " + std::to_string(k);
      c.agent = "main";
      c.started_at_ms = base_ms + k;
      c.external_ids = {{"openclaw.session_key", "agent:main:s" + std::to_string(k)}};
      batches.back().Add(std::move(c));
    }
    std::vector<const WriteBatch*> ptrs;
    for (auto& b : batches) ptrs.push_back(&b);
    for (const Status& st : ledger->ApplyGroup(ptrs)) {
      if (!st.ok()) Die("write conversations", st);
    }
  }

  // The events: round r writes event r of every conversation, so each conversation's events
  // are spread over the whole table.
  auto t1 = std::chrono::steady_clock::now();
  double cpu1 = CpuSeconds();
  int64_t written = 0;
  std::vector<WriteBatch> group;
  auto flush = [&] {
    if (group.empty()) return;
    std::vector<const WriteBatch*> ptrs;
    for (auto& b : group) ptrs.push_back(&b);
    for (const Status& st : ledger->ApplyGroup(ptrs)) {
      if (!st.ok()) Die("write events", st);
    }
    group.clear();
  };
  for (int64_t r = 0; r < per_conversation && written < events; ++r) {
    for (int64_t k = 0; k < conversations && written < events; ++k) {
      if (group.empty() || static_cast<int>(group.back().ops.size()) >= batch_size) {
        if (static_cast<int>(group.size()) >= group_size) flush();
        group.emplace_back();
      }
      Event e;
      e.id = ids.Next();
      e.conversation_id = conv_ids[k];
      e.kind = r % 2 == 0 ? "openclaw.before_tool_call" : "openclaw.after_tool_call";
      e.time_ms = base_ms + r * 1000 + k;
      e.actor = "openclaw:main";
      e.attributes = Json{{"toolName", "exec"},
                          {"toolCallId", "call_" + std::to_string(r / 2)},
                          {"params", {{"command", "ls -la /srv/app"}}},
                          {"durationMs", (r * 7 + k) % 1000}};
      group.back().Add(std::move(e));
      ++written;
    }
  }
  flush();
  auto t2 = std::chrono::steady_clock::now();
  double write_cpu_s = CpuSeconds() - cpu1;
  double write_s = Seconds(t1, t2);
  double events_per_s = static_cast<double>(written) / write_s;

  auto stats = ledger->Stats();
  if (!stats.ok()) Die("stats", stats.status());

  // GetTrace on random conversations.
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> pick(0, conversations - 1);
  for (int i = 0; i < 10; ++i) {
    auto t = ledger->GetTrace(conv_ids[pick(rng)]);
    if (!t.ok()) Die("trace", t.status());
  }
  std::vector<double> ms;
  size_t trace_events = 0;
  double trace_cpu0 = CpuSeconds();
  for (int i = 0; i < samples; ++i) {
    const Uuid& id = conv_ids[pick(rng)];
    auto a = std::chrono::steady_clock::now();
    auto t = ledger->GetTrace(id);
    auto b = std::chrono::steady_clock::now();
    if (!t.ok()) Die("trace", t.status());
    trace_events = t->events.size();
    ms.push_back(Seconds(a, b) * 1000.0);
  }

  double trace_cpu_ms = (CpuSeconds() - trace_cpu0) * 1000.0 / samples;
  auto t3 = std::chrono::steady_clock::now();
  auto report = ledger->VerifyChain();
  auto t4 = std::chrono::steady_clock::now();
  if (!report.ok()) Die("verify", report.status());
  if (!report->ok) {
    std::fprintf(stderr, "ledger_bench: chain broken at %lld: %s\n",
                 static_cast<long long>(report->first_bad_seq.value_or(0)),
                 report->problem.c_str());
    return 1;
  }

  double p50 = Percentile(ms, 0.50), p90 = Percentile(ms, 0.90), p99 = Percentile(ms, 0.99);
  double max = *std::max_element(ms.begin(), ms.end());
  std::string backend(ledger->backend());
  if (json) {
    Json j = {{"backend", backend},
              {"events", stats->events},
              {"conversations", stats->conversations},
              {"size_bytes", stats->size_bytes},
              {"write_seconds", write_s},
              {"events_per_second", events_per_s},
              {"write_cpu_seconds", write_cpu_s},
              {"batch", batch_size},
              {"group", group_size},
              {"trace_events", trace_events},
              {"trace_samples", samples},
              {"trace_p50_ms", p50},
              {"trace_p90_ms", p90},
              {"trace_p99_ms", p99},
              {"trace_max_ms", max},
              {"trace_cpu_ms_mean", trace_cpu_ms},
              {"verify_seconds", Seconds(t3, t4)}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("backend          %s\n", backend.c_str());
    std::printf("ledger           %lld events, %lld conversations, %.1f MiB\n",
                static_cast<long long>(stats->events), static_cast<long long>(stats->conversations),
                stats->size_bytes / 1048576.0);
    std::printf("write            %.1f s: %.0f events/s (ApplyGroup of %d batches x %d events; "
                "%.1f CPU s in this process: %.0f events per CPU second)\n",
                write_s, events_per_s, group_size, batch_size, write_cpu_s,
                static_cast<double>(written) / write_cpu_s);
    std::printf("GetTrace         %zu-event conversation, %d samples: p50 %.2f ms, p90 %.2f ms, "
                "p99 %.2f ms, max %.2f ms (%.2f CPU ms each in this process)\n",
                trace_events, samples, p50, p90, p99, max, trace_cpu_ms);
    std::printf("VerifyChain      %lld rows in %.1f s\n",
                static_cast<long long>(report->rows_checked), Seconds(t3, t4));
  }
  ledger.reset();
  if (!temp_dir.empty()) std::filesystem::remove_all(temp_dir);
  return 0;
}
