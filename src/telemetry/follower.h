// Telemetry that follows the ledger: what other writers committed (the CLI in direct mode,
// a second server on the same PostgreSQL ledger) becomes spans, Loki lines and Grafana
// annotations too, not only the batches this server's writer commits.
//
// The follower reads committed events in seq order (Ledger::ReadEventsAfter), skips those
// this process already handed to the pipeline through its commit hook (NoteOwn), rebuilds
// the rest into a batch the pipeline maps (BatchFromEvents: each event, plus the projection
// rows its kind names, read now), and stores the last handled seq in the ledger cursor
// "telemetry", so a restart goes on where it stopped. The first start of a ledger begins at
// its tail (no flood of history). Of several servers sharing one ledger only the holder of
// the lease "telemetry" follows; the others wait for it to lapse.
//
// Delivery is at least once: a crash between export and cursor store, or an own event read
// before the commit hook noted it, exports it again. Span ids derive from record ids and
// Loki lines carry the event id, so a re-export is a duplicate the backend collapses.
// What another writer recorded of an OpenClaw tool call becomes its Loki lines, not a span
// (tool-call spans come from the server that ingested the hook).
//
// Thread-safety: Start/Stop from one owner; NoteOwn and Wake from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "ledger/ledger.h"

namespace clawback::telemetry {

// The batch `events` came from, as far as the pipeline needs it: every event, and for
// conversation starts and ends, deployments (and a rolled-back one's rollbacks) and
// commands the row they stand for.
Result<ledger::WriteBatch> BatchFromEvents(ledger::Ledger& ledger, const std::vector<ledger::Event>& events);

struct FollowerOptions {
  std::string cursor = "telemetry";
  std::string lease = "telemetry";
  std::chrono::milliseconds poll{1000};
  int64_t lease_ttl_ms = 15000;
  int page = 1000;  // events per read
};

class LedgerFollower {
 public:
  // Where rebuilt batches go: TelemetryPipeline::OnCommitted.
  using Sink = std::function<void(const ledger::WriteBatch&)>;
  // `ledger` must outlive the follower.
  LedgerFollower(ledger::Ledger* ledger, Sink sink, FollowerOptions options = {},
                 const Clock& clock = SystemClock());
  ~LedgerFollower();

  void Start();
  // Finishes what is committed so far (when started and holding the lease), releases the
  // lease, stops. Idempotent; the destructor calls it.
  void Stop();

  // Events of a batch this process's pipeline got from the commit hook: not exported again.
  void NoteOwn(const ledger::WriteBatch& batch);
  // Polls now (after a commit) instead of at the next interval.
  void Wake();

  // One round (tests): takes or renews the lease and handles every committed event after
  // the cursor. Returns how many events it handed to the pipeline.
  Result<int64_t> RunOnce();

 private:
  void Loop();
  bool IsOwn(const Uuid& id);

  ledger::Ledger* const ledger_;
  const Sink sink_;
  const FollowerOptions options_;
  const Clock& clock_;
  const std::string holder_;  // this process's name in the lease
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  bool woken_ = false;     // GUARDED_BY(mu_)
  std::unordered_set<std::string> own_;  // GUARDED_BY(mu_): hex event ids
  std::deque<std::string> own_order_;    // GUARDED_BY(mu_)
  bool warned_ = false;
  bool released_ = false;
  std::thread thread_;
};

}  // namespace clawback::telemetry
