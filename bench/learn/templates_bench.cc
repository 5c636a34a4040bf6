// Template-miner throughput on one core:
// `learn_templates_bench [LOGHUB_DIR] [--lines N] [--system NAME] [--grouping frequency|tree]`.
//
// For each Loghub 2k system the 2,000 sample lines are replicated to N lines (default
// 1,000,000 per system) with every digit replaced by a pseudo-random one (except the `0` of a
// `0x` prefix), so numbers, IPs, ids and timestamps vary the way they do in real logs while
// the messages stay those of the system. Generation is not timed; the timed part is
// TemplatePipeline::AddBatch over all N lines as one batch (header format, masking, frequency
// grouping, joining the miner; what `learn templates` does by default), or with
// `--grouping tree` TemplatePipeline::AddLine per line (the online parse tree), on a single
// thread, fresh miner per system. A second pass times
// mining on the pre-extracted contents (no header parsing). Rates are per CPU-second of the
// mining thread (CLOCK_THREAD_CPUTIME_ID), i.e. one core's throughput.
#include <cctype>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "learn/templates/pipeline.h"

using clawback::learn::LogFormat;
using clawback::learn::Masker;
using clawback::learn::MinerOptions;
using clawback::learn::TemplateMiner;
using clawback::learn::TemplatePipeline;

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// xorshift64*: deterministic, fast.
// CPU time of this thread: the one-core cost, whatever else the machine runs.
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Rng {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  uint64_t Next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "../shared/data/loghub-2k";
  size_t per_system = 1000000;
  std::string only;  // --system NAME: just that one (for profiling)
  bool tree = false;  // --grouping tree: the online parse tree, line by line
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--lines" && i + 1 < argc) {
      per_system = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--system" && i + 1 < argc) {
      only = argv[++i];
    } else if (a == "--grouping" && i + 1 < argc) {
      tree = std::string(argv[++i]) == "tree";
    } else if (a == "--help" || a == "-h") {
      std::printf("usage: learn_templates_bench [LOGHUB_DIR] [--lines N] [--system NAME] "
                  "[--grouping frequency|tree]\n");
      return 0;
    } else {
      dir = a;
    }
  }
  std::string settings_text = ReadFile(dir + "/benchmark_settings.json");
  if (settings_text.empty()) {
    std::fprintf(stderr, "learn_templates_bench: cannot read %s/benchmark_settings.json\n",
                 dir.c_str());
    return 1;
  }
  auto settings = nlohmann::json::parse(settings_text)["settings"];
  const char* systems[] = {"HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "HPC", "Apache", "OpenSSH"};
  std::printf("grouping: %s\n", tree ? "tree (AddLine)" : "frequency (AddBatch)");
  std::printf("lines/s and MB/s per CPU-second of the mining thread (one core); wall l/s is\n"
              "elapsed time, which a busy machine inflates.\n");
  std::printf("%-10s %10s %10s %14s %14s %9s %12s\n", "system", "lines", "templates", "lines/s",
              "content l/s", "MB/s", "wall l/s");
  double total_lines = 0, total_secs = 0, total_csecs = 0;
  Rng rng;
  for (const char* sys : systems) {
    if (!only.empty() && only != sys) continue;
    const auto& s = settings[sys];
    std::string raw = ReadFile(dir + "/" + s["log_file"].get<std::string>());
    std::vector<std::string> samples;
    std::istringstream in(raw);
    for (std::string line; std::getline(in, line);) samples.push_back(line);
    if (samples.empty()) continue;
    // Replicate with varied digits, into one buffer.
    std::string buf;
    std::vector<std::pair<size_t, size_t>> spans;
    buf.reserve(per_system * 120);
    for (size_t i = 0; i < per_system; ++i) {
      const std::string& src = samples[i % samples.size()];
      size_t start = buf.size();
      for (size_t k = 0; k < src.size(); ++k) {
        char c = src[k];
        // Every digit is re-drawn except the `0` of a `0x` prefix: a hex value is still
        // written `0x...` (re-drawing it gave tokens like `6x7380` that no log contains).
        const bool hex_prefix =
            c == '0' && k + 1 < src.size() && (src[k + 1] == 'x' || src[k + 1] == 'X') &&
            (k == 0 || !std::isalnum(static_cast<unsigned char>(src[k - 1])));
        if (c >= '0' && c <= '9' && i >= samples.size() && !hex_prefix)
          c = static_cast<char>('0' + rng.Next() % 10);
        buf.push_back(c);
      }
      spans.emplace_back(start, src.size());
    }
    auto fmt = LogFormat::Parse(s["log_format"].get<std::string>());
    auto masker = Masker::Create({});
    if (!fmt.ok() || !masker.ok()) return 1;
    LogFormat fmt_copy = *fmt;
    TemplatePipeline pipe(std::move(*fmt), std::move(*masker), TemplateMiner(MinerOptions{}));
    uint64_t checksum = 0;
    std::vector<std::string_view> views;
    views.reserve(spans.size());
    for (auto [off, len] : spans) views.push_back(std::string_view(buf).substr(off, len));
    auto w0 = std::chrono::steady_clock::now();
    double t0 = ThreadCpuSeconds();
    if (tree) {
      for (auto v : views) checksum += pipe.AddLine(v);
    } else {
      for (uint64_t id : pipe.AddBatch(views)) checksum += id;
    }
    double secs = ThreadCpuSeconds() - t0;
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();

    // Content only: the header already split off.
    std::vector<std::string_view> contents;
    contents.reserve(spans.size());
    for (auto [off, len] : spans) {
      std::string_view line = std::string_view(buf).substr(off, len), c;
      contents.push_back(fmt_copy.Extract(line, &c) ? c : line);
    }
    auto masker2 = Masker::Create({});
    if (!masker2.ok()) return 1;
    TemplatePipeline pipe2(std::nullopt, std::move(*masker2), TemplateMiner(MinerOptions{}));
    double t2 = ThreadCpuSeconds();
    if (tree) {
      for (auto c : contents) checksum += pipe2.AddLine(c);
    } else {
      for (uint64_t id : pipe2.AddBatch(contents)) checksum += id;
    }
    double csecs = ThreadCpuSeconds() - t2;

    double n = static_cast<double>(spans.size());
    std::printf("%-10s %10zu %10zu %14.0f %14.0f %9.1f %12.0f   (checksum %llu)\n", sys,
                spans.size(), pipe.miner().size(), n / secs, n / csecs,
                static_cast<double>(buf.size()) / secs / 1e6, n / wall,
                static_cast<unsigned long long>(checksum % 1000));
    total_lines += n;
    total_secs += secs;
    total_csecs += csecs;
  }
  std::printf("%-10s %10.0f %10s %14.0f %14.0f\n", "ALL", total_lines, "", total_lines / total_secs,
              total_lines / total_csecs);
  return 0;
}
