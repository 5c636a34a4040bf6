// The batching writer: the ONE thread that turns validated requests into ledger writes.
//
// HTTP threads parse and validate a request, then Submit() a Job and wait for its Reply.
// The writer thread takes every queued job (up to max_group), runs each job's Prepare on
// a record::Context (record/context.h) — which resolves conversation state from a cache of sessions backed by
// ledger lookups — and commits all the resulting batches with Ledger::ApplyGroup: one
// database transaction, one savepoint per request, so each request lands all-or-nothing
// while a burst costs one commit. Then it answers every job.
//
// Because only this thread writes and resolves, the OpenClaw conversation rules
// (openclaw.h) see requests in arrival order without locks. If any batch of a group fails
// to commit, the cache is dropped and rebuilt from the ledger on demand.
//
// Thread-safety: Submit() may be called from any thread; Start/Stop from one owner.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/clock.h"
#include "common/status.h"
#include "common/uuid.h"
#include "record/context.h"
#include "ledger/ledger.h"
#include "telemetry/metrics.h"

namespace clawback::ingest {

struct WriterOptions {
  size_t max_group = 512;     // requests per transaction
  size_t max_queue = 20000;   // queued requests before Submit answers Unavailable
  // Called on the writer thread with every batch that committed, in commit order (the
  // telemetry pipeline maps it to spans and log lines). Must be cheap and never block.
  std::function<void(const ledger::WriteBatch&)> on_committed;
};

class BatchingWriter {
 public:
  BatchingWriter(ledger::Ledger* ledger, const Clock& clock, WriterOptions options,
                 telemetry::Registry* metrics);
  ~BatchingWriter();

  void Start();
  // Stops taking jobs, commits everything queued, then joins the thread.
  void Stop();
  bool running() const;

  // Queues `fn`; the future is fulfilled after the commit. A full queue or a stopped
  // writer answers Unavailable at once.
  std::future<record::Reply> Submit(record::PrepareFn fn);

 private:
  struct Job {
    record::PrepareFn prepare;
    std::promise<record::Reply> promise;
  };
  void Loop();
  void RunGroup(std::vector<Job>* jobs);

  ledger::Ledger* ledger_;
  WriterOptions options_;
  record::Context ctx_;  // writer thread only
  telemetry::Counter* events_stored_;
  telemetry::Counter* commits_;
  telemetry::Counter* commit_failures_;
  telemetry::Histogram* group_size_;
  telemetry::Gauge* queue_depth_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;  // GUARDED_BY(mu_)
  bool running_ = false;   // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace clawback::ingest
