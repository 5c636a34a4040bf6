// BatchExporter<Item>: a bounded queue and one worker thread that sends items in batches,
// retrying with exponential backoff. It never blocks the caller: when the queue is full
// the item is dropped and counted, so a dead collector never slows ingest.
//
// Metrics (on the registry given):
//   clawback_telemetry_exported_total{exporter}         items delivered
//   clawback_telemetry_dropped_total{exporter,reason}   reason = queue_full | send_failed | rejected
//   clawback_telemetry_send_errors_total{exporter}      failed attempts (retried or not)
//   clawback_telemetry_queue_length{exporter}           items waiting
//
// Thread-safety: Enqueue and Flush may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "telemetry/metrics.h"

namespace clawback::telemetry {

struct ExporterOptions {
  size_t queue_capacity = 20000;
  size_t max_batch = 512;
  std::chrono::milliseconds flush_interval{1000};
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds request_timeout{5000};
};

template <typename Item>
class BatchExporter {
 public:
  // Sends one batch; Unavailable is retried, any other error drops the batch.
  using SendFn = std::function<Status(const std::vector<Item>&)>;

  BatchExporter(std::string name, SendFn send, ExporterOptions options, Registry* registry)
      : name_(std::move(name)), send_(std::move(send)), options_(options) {
    exported_ = &registry->AddCounter("clawback_telemetry_exported", "Telemetry items delivered",
                                      {"exporter"})
                     .WithLabels({name_});
    auto& dropped = registry->AddCounter("clawback_telemetry_dropped",
                                         "Telemetry items dropped", {"exporter", "reason"});
    dropped_full_ = &dropped.WithLabels({name_, "queue_full"});
    dropped_failed_ = &dropped.WithLabels({name_, "send_failed"});
    dropped_rejected_ = &dropped.WithLabels({name_, "rejected"});
    errors_ = &registry->AddCounter("clawback_telemetry_send_errors",
                                    "Failed telemetry send attempts", {"exporter"})
                   .WithLabels({name_});
    queue_len_ = &registry->AddGauge("clawback_telemetry_queue_length",
                                     "Telemetry items waiting to be sent", {"exporter"})
                      .WithLabels({name_});
    worker_ = std::thread([this] { Run(); });
  }

  ~BatchExporter() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  // Never blocks. False when the item was dropped because the queue is full.
  bool Enqueue(Item item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.size() >= options_.queue_capacity) {
        dropped_full_->Inc();
        return false;
      }
      queue_.push_back(std::move(item));
      queue_len_->Set(static_cast<double>(queue_.size()));
    }
    cv_.notify_one();
    return true;
  }

  // Waits until everything enqueued so far was sent or dropped, or `timeout` passed.
  bool Flush(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    uint64_t target = enqueued_marker();
    flush_requested_ = true;
    cv_.notify_all();
    return done_cv_.wait_for(lock, timeout, [&] { return finished_ >= target; });
  }

 private:
  // Items enqueued so far, counting those already taken. REQUIRES: mu_ held.
  uint64_t enqueued_marker() const { return taken_ + queue_.size(); }

  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait_for(lock, options_.flush_interval, [&] {
        return stopping_ || flush_requested_ || queue_.size() >= options_.max_batch;
      });
      if (queue_.empty()) {
        flush_requested_ = false;
        done_cv_.notify_all();
        if (stopping_) return;
        continue;
      }
      std::vector<Item> batch;
      size_t n = std::min(queue_.size(), options_.max_batch);
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      taken_ += n;
      queue_len_->Set(static_cast<double>(queue_.size()));
      lock.unlock();
      SendWithRetry(batch);
      lock.lock();
      finished_ += n;
      done_cv_.notify_all();
    }
  }

  void SendWithRetry(const std::vector<Item>& batch) {
    auto backoff = options_.initial_backoff;
    for (int attempt = 1;; ++attempt) {
      Status st = send_(batch);
      if (st.ok()) {
        exported_->Inc(static_cast<double>(batch.size()));
        return;
      }
      errors_->Inc();
      if (st.code() != StatusCode::kUnavailable) {
        dropped_rejected_->Inc(static_cast<double>(batch.size()));
        return;
      }
      if (attempt >= options_.max_attempts) {
        dropped_failed_->Inc(static_cast<double>(batch.size()));
        return;
      }
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) {  // shutting down: one attempt more is all we give it
        dropped_failed_->Inc(static_cast<double>(batch.size()));
        return;
      }
      cv_.wait_for(lock, backoff, [&] { return stopping_; });
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
  }

  const std::string name_;
  const SendFn send_;
  const ExporterOptions options_;
  Counter* exported_;
  Counter* dropped_full_;
  Counter* dropped_failed_;
  Counter* dropped_rejected_;
  Counter* errors_;
  Gauge* queue_len_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  std::deque<Item> queue_;       // GUARDED_BY(mu_)
  bool stopping_ = false;        // GUARDED_BY(mu_)
  bool flush_requested_ = false; // GUARDED_BY(mu_)
  uint64_t taken_ = 0;           // GUARDED_BY(mu_)
  uint64_t finished_ = 0;        // GUARDED_BY(mu_)
  std::thread worker_;
};

}  // namespace clawback::telemetry
