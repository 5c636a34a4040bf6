// A small fixed pool of worker threads with a bounded queue, used by the archiver and the
// restorer. A thread that would block on a full queue, or that waits for a group of tasks,
// runs queued tasks itself instead of idling ("helping"), so the caller's core stays busy.
//
// Thread-safety: Submit/TryRunOne/Wait may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace clawback::store {

class WorkPool {
 public:
  // `threads` workers (0: none — the submitter runs everything while waiting);
  // at most `max_queued` tasks wait in the queue.
  WorkPool(int threads, size_t max_queued);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  void Submit(std::function<void()> task);
  // Runs one queued task on this thread; false when the queue was empty.
  bool TryRunOne();

  // Number of cores, at least 1.
  static int DefaultThreads();

 private:
  void WorkerLoop();
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::deque<std::function<void()>> queue_;
  size_t max_queued_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

// Counts outstanding tasks of one group; Wait() helps the pool until all are done.
// The counters live in shared state, so a task finishing after Wait() returned never
// touches a destroyed group.
class TaskGroup {
 public:
  explicit TaskGroup(WorkPool* pool);
  // Submits `task` as part of this group.
  void Run(std::function<void()> task);
  void Wait();

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    int pending = 0;
  };
  WorkPool* pool_;
  std::shared_ptr<State> state_;
};

}  // namespace clawback::store
