// ParentPrefetch: the parent snapshot's trees, loaded ahead of the archiver's walker by pool
// threads (restic's archiver loads the parent tree of each directory as it descends; we
// load them early, which was the walker's largest cost in a re-snapshot, where the workers
// have no files to read).
//
// When the walker starts a directory it calls Queue() with that directory's parent tree:
// each subdirectory's parent subtree becomes a pool task with a Slot in the directory's
// Map. When the walker reaches a subdirectory it calls Take() with its slot: whoever comes
// first loads — the walker claims a tree still queued (and loads it itself), or waits for
// one already loading. A Map's destruction cancels its queued tasks and waits for loading
// ones, so the Tree the tasks point into (the one given to Queue) may go after it:
// subdirectories gone from disk or excluded are never claimed.
//
// Thread-safety: Queue/Take/Load from the walker; the tasks run on pool threads.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "store/archiver/work_pool.h"
#include "store/repository.h"
#include "store/tree.h"

namespace clawback::store {

class ParentPrefetch {
 public:
  // One subdirectory's parent tree, being loaded or loaded.
  struct Slot {
    std::mutex mu;
    std::condition_variable cv;
    enum class State {
      kQueued,
      kLoading,
      kDone,
      kClaimed
    } state = State::kQueued;  // GUARDED_BY(mu)
    std::optional<Tree> tree;  // GUARDED_BY(mu)
  };

  // The slots of one directory's subdirectories, by name (the names point into the tree
  // given to Queue, which must outlive the Map).
  class Map {
   public:
    Map() = default;
    Map(const Map&) = delete;
    Map& operator=(const Map&) = delete;
    ~Map();
    Slot* Find(std::string_view name) const;
    size_t size() const { return slots_.size(); }

   private:
    friend class ParentPrefetch;
    std::unordered_map<std::string_view, std::shared_ptr<Slot>> slots_;
  };

  // `keep_going` is asked before a queued task loads (false once the archive failed).
  ParentPrefetch(Repository* repo, WorkPool* pool, std::function<bool()> keep_going)
      : repo_(repo), pool_(pool), keep_going_(std::move(keep_going)) {}

  // The parent's subtree of directory node `pnode`, loaded now; nothing when there is no
  // such node or subtree, or it cannot be loaded (a damaged parent only costs re-reading).
  std::optional<Tree> Load(const Node* pnode);

  // Queues the subtrees of `ptree`'s directories into `map`.
  void Queue(const Tree& ptree, Map* map);

  // The parent tree for `pnode`, from `slot` when there is one (null: Load now).
  std::optional<Tree> Take(const Node* pnode, Slot* slot);

 private:
  Repository* repo_;
  WorkPool* pool_;
  std::function<bool()> keep_going_;
};

}  // namespace clawback::store
