// Walking and comparing snapshot trees: `clawback ls` and `clawback diff`.
//
// Paths are "/"-separated and absolute inside the snapshot ("/srv/app/config.toml").
// DiffTrees skips identical subtrees by id, so comparing two snapshots of a large tree
// that differ in one file loads only the trees on the path to it.
//
// Thread-safety: pure functions over a Repository (which is thread-safe).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/repository.h"

namespace clawback::store {

// Calls fn(path, node) for every node below `tree`, pre-order, children sorted by name.
// Returning a non-OK status from fn stops the walk with it.
Status WalkTree(Repository* repo, const Id& tree, const std::string& prefix,
                const std::function<Status(const std::string& path, const Node& node)>& fn);

// The node at `path` inside the tree (path "/" or "" is the root: NotFound never).
// Returns the subtree id of a directory through *dir_tree when it is one.
Result<Node> FindNode(Repository* repo, const Id& root, const std::string& path);

enum class Change { kAdded, kRemoved, kModified, kMetadata, kTypeChanged };
// "+", "-", "M", "U", "T" (as restic diff prints them).
const char* ChangeSymbol(Change c);
const char* ChangeName(Change c);

struct DiffEntry {
  Change change;
  std::string path;  // directories end in "/"
  NodeType old_type = NodeType::kUnknown, new_type = NodeType::kUnknown;
  uint64_t old_size = 0, new_size = 0;
};

struct DiffStats {
  uint64_t added = 0, removed = 0, modified = 0, metadata = 0, type_changed = 0;
  uint64_t bytes_added = 0, bytes_removed = 0;  // sizes of added/removed files
};

// Differences from tree `a` to tree `b`: added/removed entries (a removed directory is
// listed with everything below it), files with other content, entries whose metadata
// (mode, owner, mtime, link target) changed, and type changes.
Result<std::vector<DiffEntry>> DiffTrees(Repository* repo, const Id& a, const Id& b,
                                         DiffStats* stats = nullptr);

}  // namespace clawback::store
