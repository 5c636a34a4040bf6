#include "ingest/writer.h"

namespace clawback::ingest {

BatchingWriter::BatchingWriter(ledger::Ledger* ledger, const Clock& clock, WriterOptions options,
                               telemetry::Registry* metrics)
    : ledger_(ledger), options_(options), ctx_(ledger, clock) {
  events_stored_ = &metrics->AddCounter("clawback_ingest_events_stored",
                                        "Ledger events appended by the ingest server.")
                        .Get();
  commits_ = &metrics->AddCounter("clawback_ingest_commits",
                                  "Group commits (one ledger transaction each).")
                  .Get();
  commit_failures_ = &metrics->AddCounter("clawback_ingest_request_commit_failures",
                                          "Requests whose savepoint failed at commit.")
                          .Get();
  group_size_ = &metrics
                     ->AddHistogram("clawback_ingest_group_requests",
                                    "Requests committed per ledger transaction.", {},
                                    {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})
                     .Get();
  queue_depth_ = &metrics->AddGauge("clawback_ingest_queue_depth",
                                    "Requests waiting for the writer thread.")
                      .Get();
}

BatchingWriter::~BatchingWriter() { Stop(); }

void BatchingWriter::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (running_) return;
  running_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void BatchingWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  running_ = false;
}

bool BatchingWriter::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_ && !stopping_;
}

std::future<record::Reply> BatchingWriter::Submit(record::PrepareFn fn) {
  Job job{std::move(fn), {}};
  std::future<record::Reply> f = job.promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_ || stopping_ || queue_.size() >= options_.max_queue) {
      record::Reply r;
      r.status = Unavailable(running_ && !stopping_ ? "the ingest queue is full; retry later"
                                                    : "the server is shutting down");
      job.promise.set_value(std::move(r));
      return f;
    }
    queue_.push_back(std::move(job));
    queue_depth_->Set(static_cast<double>(queue_.size()));
  }
  cv_.notify_one();
  return f;
}

void BatchingWriter::Loop() {
  std::vector<Job> jobs;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and drained
      size_t n = std::min(queue_.size(), options_.max_group);
      jobs.clear();
      for (size_t i = 0; i < n; ++i) {
        jobs.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queue_depth_->Set(static_cast<double>(queue_.size()));
    }
    RunGroup(&jobs);
  }
}

void BatchingWriter::RunGroup(std::vector<Job>* jobs) {
  std::vector<ledger::WriteBatch> batches(jobs->size());
  std::vector<record::Reply> replies(jobs->size());
  std::vector<size_t> to_commit;
  std::vector<const ledger::WriteBatch*> ptrs;
  for (size_t i = 0; i < jobs->size(); ++i) {
    (*jobs)[i].prepare(ctx_, &batches[i], &replies[i]);
    if (!replies[i].status.ok() || batches[i].empty()) continue;
    to_commit.push_back(i);
    ptrs.push_back(&batches[i]);
  }
  bool any_failed = false;
  if (!ptrs.empty()) {
    std::vector<Status> results = ledger_->ApplyGroup(ptrs);
    commits_->Inc();
    group_size_->Observe(static_cast<double>(ptrs.size()));
    for (size_t k = 0; k < to_commit.size(); ++k) {
      record::Reply& r = replies[to_commit[k]];
      Status st = k < results.size() ? results[k] : Internal("ledger returned too few results");
      if (!st.ok()) {
        any_failed = true;
        commit_failures_->Inc();
        r.status = st;
        r.body = record::Json();
        continue;
      }
      int events = 0;
      for (const auto& op : batches[to_commit[k]].ops)
        if (std::holds_alternative<ledger::Event>(op)) ++events;
      r.events = events;
      events_stored_->Inc(events);
      if (options_.on_committed) options_.on_committed(batches[to_commit[k]]);
    }
  }
  // State advanced by a batch that did not land is wrong: rebuild it from the ledger.
  if (any_failed) ctx_.Invalidate();
  ctx_.TrimIfLarge();
  for (size_t i = 0; i < jobs->size(); ++i) {
    replies[i].spent = std::move(batches[i]);
    // Drop the closure before answering: the submitting thread holds its own reference to
    // the request data, so the last release (and the frees) happen there, not here.
    (*jobs)[i].prepare = nullptr;
    (*jobs)[i].promise.set_value(std::move(replies[i]));
  }
}

}  // namespace clawback::ingest
