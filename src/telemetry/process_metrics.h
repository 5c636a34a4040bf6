// The process metrics every Prometheus client library exports, under their standard names
// (process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds), read from /proc/self at
// each scrape. The Resources dashboard reads process_resident_memory_bytes{job="clawback"}.
//
// Thread-safety: the collector runs on the scraping thread; Registry serialises nothing
// else it needs.
#pragma once

#include "telemetry/metrics.h"

namespace clawback::telemetry {

// Registers the families and a collector that refreshes them. Linux only (reads /proc).
void AddProcessMetrics(Registry* registry);

// One reading of /proc/self (exposed for tests). Fields are 0 when unreadable.
struct ProcessSample {
  double cpu_seconds = 0;         // user + system
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double open_fds = 0;
  double max_fds = 0;
  double start_time_seconds = 0;  // Unix time
};
ProcessSample ReadProcessSample();

}  // namespace clawback::telemetry
