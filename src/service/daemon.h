// `clawback serve`'s daemon: everything it runs, started and stopped from one list.
//
// Components, in start order (Stop runs them backwards):
//   telemetry  the OTLP/Loki/Grafana pipeline ([telemetry]), fed by every batch this server
//              commits and, through the ledger follower (telemetry/follower.h), by what
//              other writers committed (the CLI in direct mode, another server)
//   http       the API server (ingest/server.h) with record/'s write routes and the service's
//              routes (api_routes.h: deployments, advice, risk, log ingest, tokens), and
//              POST /v1/snapshots over the repository (snapshots.h)
// A new capability (the scheduler, the time machine) joins by adding its component in
// Daemon::Daemon — one line and its own start/stop.
//
// Thread-safety: Start and Stop from one owner thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "ingest/server.h"
#include "ledger/ledger.h"
#include "service/learn_service.h"
#include "service/snapshots.h"
#include "telemetry/follower.h"
#include "telemetry/pipeline.h"

namespace clawback::service {

struct DaemonOptions {
  std::string listen;  // "" : [server] listen
  int threads = 0;     // 0 : [server] threads
  SnapshotSource snapshots;
};

class Daemon {
 public:
  // One thing the daemon runs.
  struct Component {
    std::string name;
    std::function<Status()> start;
    std::function<void()> stop;
  };

  // Reads [server] and [telemetry] (their errors name the key). The ledger must outlive
  // the daemon.
  static Result<std::unique_ptr<Daemon>> Create(const Config& config, ledger::Ledger* ledger,
                                                DaemonOptions options);
  ~Daemon();

  // Starts every component in order; when one fails, stops those already started and
  // returns its error.
  Status Start();
  // Stops the started components in reverse order (the server drains accepted writes
  // before telemetry flushes what they yielded). Idempotent.
  void Stop();

  // "http://127.0.0.1:18800" once started.
  std::string url() const;
  const std::vector<Component>& components() const { return components_; }

 private:
  Daemon() = default;
  ledger::Ledger* ledger_ = nullptr;
  telemetry::TelemetryOptions telemetry_options_;
  std::shared_ptr<LearnService> learn_;
  std::unique_ptr<ingest::IngestServer> server_;
  std::unique_ptr<telemetry::TelemetryPipeline> pipeline_;
  std::unique_ptr<telemetry::LedgerFollower> follower_;
  std::vector<Component> components_;
  size_t started_ = 0;
};

}  // namespace clawback::service
