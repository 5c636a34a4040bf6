#include "telemetry/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

namespace clawback::telemetry {
namespace {

// The system boot time (Unix seconds), from /proc/stat's btime.
double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

ProcessSample ReadProcessSample() {
  ProcessSample s;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  {
    std::ifstream in("/proc/self/stat");
    std::string line;
    std::getline(in, line);
    // Fields after the command name, which is in parentheses and may hold spaces.
    size_t close = line.rfind(')');
    if (close != std::string::npos && ticks > 0) {
      std::istringstream rest(line.substr(close + 2));
      std::string f[24];
      for (int i = 0; i < 24 && rest >> f[i]; ++i) {
      }
      // state(3) is f[0]; utime(14) f[11], stime(15) f[12], starttime(22) f[19],
      // vsize(23) f[20], rss(24) f[21].
      s.cpu_seconds = (std::strtod(f[11].c_str(), nullptr) + std::strtod(f[12].c_str(), nullptr)) / ticks;
      s.start_time_seconds = BootTimeSeconds() + std::strtod(f[19].c_str(), nullptr) / ticks;
      s.virtual_bytes = std::strtod(f[20].c_str(), nullptr);
      s.resident_bytes = std::strtod(f[21].c_str(), nullptr) * page;
    }
  }
  if (DIR* d = ::opendir("/proc/self/fd")) {
    int n = 0;
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    s.open_fds = n - 1;  // the directory stream's own descriptor
  }
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) s.max_fds = static_cast<double>(lim.rlim_cur);
  return s;
}

void AddProcessMetrics(Registry* registry) {
  auto& cpu = registry->AddCounter("process_cpu_seconds", "Total user and system CPU time spent in seconds.").Get();
  auto& rss = registry->AddGauge("process_resident_memory_bytes", "Resident memory size in bytes.").Get();
  auto& vsz = registry->AddGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.").Get();
  auto& fds = registry->AddGauge("process_open_fds", "Number of open file descriptors.").Get();
  auto& max_fds = registry->AddGauge("process_max_fds", "Maximum number of open file descriptors.").Get();
  auto& start = registry->AddGauge("process_start_time_seconds",
                                   "Start time of the process since unix epoch in seconds.")
                    .Get();
  // The counter only goes up: add what the process used since the last scrape.
  struct State {
    std::mutex mu;
    double reported_cpu = 0;
  };
  auto state = std::make_shared<State>();
  registry->AddCollector([&cpu, &rss, &vsz, &fds, &max_fds, &start, state] {
    ProcessSample s = ReadProcessSample();
    {
      std::lock_guard<std::mutex> lock(state->mu);
      if (s.cpu_seconds > state->reported_cpu) {
        cpu.Inc(s.cpu_seconds - state->reported_cpu);
        state->reported_cpu = s.cpu_seconds;
      }
    }
    rss.Set(s.resident_bytes);
    vsz.Set(s.virtual_bytes);
    fds.Set(s.open_fds);
    max_fds.Set(s.max_fds);
    start.Set(s.start_time_seconds);
  });
}

}  // namespace clawback::telemetry
