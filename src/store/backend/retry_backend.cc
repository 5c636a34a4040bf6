#include "store/backend/retry_backend.h"

#include <openssl/rand.h>

#include <algorithm>
#include <thread>
#include <type_traits>
#include <utility>

namespace clawback::store {
namespace {

const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

}  // namespace

RetryBackend::RetryBackend(Backend* inner, RetryOptions options)
    : ForwardingBackend(inner), opts_(std::move(options)) {
  if (opts_.max_attempts < 1) opts_.max_attempts = 1;
}

RetryBackend::RetryBackend(BackendPtr inner, RetryOptions options)
    : RetryBackend(inner.get(), std::move(options)) {
  owned_ = std::move(inner);
}

std::chrono::milliseconds RetryBackend::BackoffFor(int retry) const {
  double ms = static_cast<double>(opts_.initial_backoff.count());
  for (int i = 1; i < retry; ++i) ms *= opts_.multiplier;
  ms = std::min(ms, static_cast<double>(opts_.max_backoff.count()));
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

bool RetryBackend::Retryable(const Status& s) const {
  return s.code() == StatusCode::kUnavailable ||
         (opts_.retry_io_errors && s.code() == StatusCode::kIOError);
}

void RetryBackend::Wait(int retry) {
  double d = static_cast<double>(BackoffFor(retry).count());
  if (opts_.jitter > 0) {
    uint32_t r = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof(r)) != 1) r = 0x80000000u;
    double u = static_cast<double>(r) / 4294967295.0;  // [0, 1]
    d *= 1.0 - opts_.jitter + 2.0 * opts_.jitter * u;
  }
  auto delay = std::chrono::milliseconds(static_cast<int64_t>(d));
  if (opts_.sleep) {
    opts_.sleep(delay);
  } else {
    std::this_thread::sleep_for(delay);
  }
}

template <typename F>
auto RetryBackend::Run(F&& op) -> decltype(op()) {
  for (int attempt = 1;; ++attempt) {
    auto result = op();
    const Status& s = StatusOf(result);
    if (s.ok() || !Retryable(s) || attempt >= opts_.max_attempts) {
      if (!s.ok() && attempt > 1 && Retryable(s)) {
        // Say how hard we tried.
        Status wrapped(s.code(),
                       s.message() + " (gave up after " + std::to_string(attempt) + " attempts)");
        return wrapped;
      }
      return result;
    }
    retries_.fetch_add(1);
    Wait(attempt);
  }
}

Status RetryBackend::Create() {
  return Run([&] { return inner_->Create(); });
}

Result<bool> RetryBackend::Exists() {
  return Run([&] { return inner_->Exists(); });
}

Status RetryBackend::Save(FileType t, const std::string& name, std::string_view data) {
  bool failed_before = false;
  return Run([&]() -> Status {
    Status s = inner_->Save(t, name, data);
    if (s.code() == StatusCode::kAlreadyExists && failed_before) {
      // An earlier attempt may have stored the file before its answer was lost.
      Result<FileInfo> info = inner_->Stat(t, name);
      if (info.ok() && info->size == static_cast<int64_t>(data.size())) return Status::Ok();
    }
    if (!s.ok()) failed_before = true;
    return s;
  });
}

Result<std::string> RetryBackend::Load(FileType t, const std::string& name, int64_t offset,
                                       int64_t length) {
  return Run([&] { return inner_->Load(t, name, offset, length); });
}

Result<FileInfo> RetryBackend::Stat(FileType t, const std::string& name) {
  return Run([&] { return inner_->Stat(t, name); });
}

Status RetryBackend::Remove(FileType t, const std::string& name) {
  bool failed_before = false;
  return Run([&]() -> Status {
    Status s = inner_->Remove(t, name);
    // A lost answer to a DELETE that happened: the file is gone, which is what was asked.
    if (s.code() == StatusCode::kNotFound && failed_before) return Status::Ok();
    if (!s.ok()) failed_before = true;
    return s;
  });
}

Result<std::vector<FileInfo>> RetryBackend::List(FileType t) {
  return Run([&] { return inner_->List(t); });
}

}  // namespace clawback::store
