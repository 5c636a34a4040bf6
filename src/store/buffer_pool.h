// A free list of reusable buffers shared by worker threads: a reader takes one, fills it,
// and gives it back, so large buffers are allocated once per concurrent reader instead of
// once per pack or file (fresh multi-MiB allocations each cost a page fault per 4 KiB, or
// stayed resident in glibc's per-thread arenas).
//
// Thread-safety: Take, Give and Clear may be called from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

namespace clawback::store {

template <typename T>
class BufferPool {
 public:
  // A spare buffer, or a new one.
  std::unique_ptr<T> Take() {
    std::lock_guard<std::mutex> l(mu_);
    if (spare_.empty()) return std::make_unique<T>();
    std::unique_ptr<T> b = std::move(spare_.back());
    spare_.pop_back();
    return b;
  }
  void Give(std::unique_ptr<T> b) {
    std::lock_guard<std::mutex> l(mu_);
    spare_.push_back(std::move(b));
  }
  // Frees every spare buffer (when the work that needed them is done).
  void Clear() {
    std::lock_guard<std::mutex> l(mu_);
    spare_.clear();
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<T>> spare_;  // GUARDED_BY(mu_)
};

}  // namespace clawback::store
