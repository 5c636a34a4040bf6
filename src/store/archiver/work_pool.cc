#include "store/archiver/work_pool.h"

#include <chrono>
#include <memory>

namespace clawback::store {

WorkPool::WorkPool(int threads, size_t max_queued) : max_queued_(max_queued == 0 ? 1 : max_queued) {
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

WorkPool::~WorkPool() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  not_empty_.notify_all();
  for (auto& t : workers_) t.join();
  // Anything left runs here, so no task is silently dropped.
  while (TryRunOne()) {
  }
}

int WorkPool::DefaultThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void WorkPool::Submit(std::function<void()> task) {
  for (;;) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (queue_.size() < max_queued_) {
        queue_.push_back(std::move(task));
        break;
      }
    }
    // Full: do some of the queued work ourselves.
    if (!TryRunOne()) std::this_thread::yield();
  }
  not_empty_.notify_one();
}

bool WorkPool::TryRunOne() {
  std::function<void()> task;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (queue_.empty()) return false;
    task = std::move(queue_.front());
    queue_.pop_front();
  }
  task();
  return true;
}

void WorkPool::WorkerLoop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> l(mu_);
      not_empty_.wait(l, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

TaskGroup::TaskGroup(WorkPool* pool) : pool_(pool), state_(std::make_shared<State>()) {}

void TaskGroup::Run(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> l(state_->mu);
    ++state_->pending;
  }
  pool_->Submit([state = state_, task = std::move(task)] {
    task();
    std::lock_guard<std::mutex> l(state->mu);
    if (--state->pending == 0) state->cv.notify_all();
  });
}

void TaskGroup::Wait() {
  for (;;) {
    {
      std::lock_guard<std::mutex> l(state_->mu);
      if (state_->pending == 0) return;
    }
    if (pool_->TryRunOne()) continue;
    std::unique_lock<std::mutex> l(state_->mu);
    state_->cv.wait_for(l, std::chrono::milliseconds(5), [this] { return state_->pending == 0; });
  }
}

}  // namespace clawback::store
