// The batching writer: the ONE thread that turns validated requests into ledger writes.
//
// HTTP threads parse and validate a request, then Submit() a Job and wait for its Reply.
// The writer thread takes every queued job (up to max_group), runs each job's Prepare on
// a WriterContext — which resolves conversation state from a cache of sessions backed by
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
#include "ingest/json_fields.h"
#include "ingest/openclaw.h"
#include "ledger/ledger.h"
#include "telemetry/metrics.h"

namespace clawback::ingest {

// What a job's Prepare may consult. Only valid on the writer thread, during Prepare.
class WriterContext {
 public:
  WriterContext(ledger::Ledger* ledger, const Clock& clock) : ledger_(ledger), clock_(clock), ids_(clock) {}

  // The state of an OpenClaw session key (loaded from the ledger on a cache miss). The
  // pointer stays valid for the rest of the current group.
  Result<std::optional<SessionState>*> Session(const std::string& session_key);
  // Whether a conversation exists (cached once seen).
  Result<bool> ConversationExists(const Uuid& id);
  // Records that a conversation was written in this group (so later jobs find it).
  void NoteConversation(const Uuid& id) { known_conversations_.insert(id.ToHex()); }
  // A conversation's end, written by a non-OpenClaw route: closes any session state on it.
  void NoteConversationEnded(const Uuid& id);
  // Drops the cached state of a session key (a route wrote a conversation for it).
  void ForgetSession(const std::string& session_key) { sessions_.erase(session_key); }

  ledger::Ledger& ledger() { return *ledger_; }
  Uuid NewId() { return ids_.Next(); }
  int64_t NowMs() const { return clock_.NowUnixMillis(); }

  // Between groups.
  void Invalidate();
  void TrimIfLarge();

 private:
  ledger::Ledger* ledger_;
  const Clock& clock_;
  UuidV7Generator ids_;
  std::unordered_map<std::string, std::optional<SessionState>> sessions_;
  std::unordered_set<std::string> known_conversations_;  // hex ids
};

struct Reply {
  Status status;        // OK, or why the request failed
  std::string field;    // the field an error is about
  Json body;            // the answer on success
  // Completes `body` on the request's thread (work the single writer thread need not do).
  std::function<void(Json* body)> finish_body;
  std::optional<Uuid> conversation_id;  // for the latency exemplar
  int events = 0;       // events the request appended (for metrics)
  // The request's batch after the writer is done with it: freed by the thread that reads
  // the reply, so the single writer thread does not spend its time in free().
  ledger::WriteBatch spent;
};

// A unit of work: fills `batch` and `reply->body`, or fails with reply->status/field.
// Returning with an empty batch and OK status answers without writing.
using PrepareFn = std::function<void(WriterContext& ctx, ledger::WriteBatch* batch, Reply* reply)>;

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
  std::future<Reply> Submit(PrepareFn fn);

 private:
  struct Job {
    PrepareFn prepare;
    std::promise<Reply> promise;
  };
  void Loop();
  void RunGroup(std::vector<Job>* jobs);

  ledger::Ledger* ledger_;
  WriterOptions options_;
  WriterContext ctx_;  // writer thread only
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
