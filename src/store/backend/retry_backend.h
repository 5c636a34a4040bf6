// RetryBackend: retries operations that failed with a transient error (Unavailable: a
// 5xx or 429 from S3, a timeout, a dropped connection) with exponential backoff and
// jitter, like restic's backend/retry. Everything else (NotFound, AlreadyExists,
// Corruption, PermissionDenied, ...) is returned at once.
//
// Save is idempotent across retries: when an attempt fails after the server already
// stored the file, the next attempt sees AlreadyExists; the wrapper then checks the
// stored size and reports success if it matches (names are content hashes).
//
// Thread-safety: as safe as the wrapped backend; the wrapper itself holds no mutable
// state besides an atomic counter.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

#include "store/backend/backend.h"

namespace clawback::store {

struct RetryOptions {
  int max_attempts = 6;  // first try included
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{10'000};
  double multiplier = 2.0;
  double jitter = 0.2;  // each delay is scaled by a random factor in [1-j, 1+j]
  // Also retry IOError (a local disk hiccup); off by default since most are permanent.
  bool retry_io_errors = false;
  // How to wait; tests pass a recorder instead of sleeping.
  std::function<void(std::chrono::milliseconds)> sleep;
};

class RetryBackend : public ForwardingBackend {
 public:
  // Wraps `inner` without owning it.
  RetryBackend(Backend* inner, RetryOptions options = {});
  // Wraps and owns `inner`.
  explicit RetryBackend(BackendPtr inner, RetryOptions options = {});

  // Backend
  Status Create() override;
  Result<bool> Exists() override;
  Status Save(FileType t, const std::string& name, std::string_view data) override;
  Result<std::string> Load(FileType t, const std::string& name, int64_t offset = 0,
                           int64_t length = 0) override;
  Result<FileInfo> Stat(FileType t, const std::string& name) override;
  Status Remove(FileType t, const std::string& name) override;
  Result<std::vector<FileInfo>> List(FileType t) override;

  // Retries made so far (attempts beyond the first), for metrics and tests.
  int64_t retries() const { return retries_.load(); }

  // The delay before retry number `retry` (1-based), before jitter.
  std::chrono::milliseconds BackoffFor(int retry) const;

 private:
  bool Retryable(const Status& s) const;
  void Wait(int retry);
  template <typename F>
  auto Run(F&& op) -> decltype(op());

  BackendPtr owned_;
  RetryOptions opts_;
  std::atomic<int64_t> retries_{0};
};

}  // namespace clawback::store
