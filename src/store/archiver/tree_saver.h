// TreeSaver: the archiver's tree saver (restic's archiver.TreeSaver) — turns a directory's
// children's nodes into its tree blob and stores it once: the nodes are sorted by their raw
// name bytes and encoded exactly as restic 0.14 does (store/tree.h; restic format spec
// §10.1, §10.5), so a directory identical to one already stored — by us or by restic — gets
// the same tree id and no new blob (Repository::SaveBlob deduplicates; only new tree blobs
// are counted). Also counts each finished directory as new, changed or unmodified against
// its node in the parent snapshot.
//
// Errors: a duplicate name (InvalidArgument) or a repository error; either ends the
// snapshot (the caller makes it fatal).
//
// Thread-safety: every method may run on many pool threads at once (the last child of a
// directory saves it, on whichever thread); the counters are atomics.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "store/archiver/file_saver.h"
#include "store/repository.h"
#include "store/tree.h"

namespace clawback::store {

class TreeSaver {
 public:
  // `counters` (not owned) outlives the saver.
  TreeSaver(Repository* repo, ArchiveCounters* counters) : repo_(repo), c_(counters) {}

  // Sorts `tree`, encodes and stores it unless an identical tree blob is already stored or
  // being stored; returns its id. tree_blobs counts only blobs actually added.
  Result<Id> Save(Tree tree);

  // Finishes directory `dir`: its tree is `children[i]` for every i with keep[i] != 0
  // (moved out; the others are children left out of the snapshot), saved as Save() does;
  // sets dir->subtree and counts the directory against `pnode` (its node in the parent
  // snapshot, or null). REQUIRES: keep has children->size() entries.
  Status SaveDir(Node* dir, const Node* pnode, std::vector<Node>* children, const uint8_t* keep);

  // Finishes directory `dir` whose tree is `tree`: Save(), dir->subtree, CountDir().
  Status SaveDir(Node* dir, const Node* pnode, Tree tree);

  // Counts a finished directory (its subtree set) as new (no directory in the parent),
  // unmodified (same subtree id as the parent's) or changed.
  void CountDir(const Node& dir, const Node* pnode);

 private:
  Repository* repo_;
  ArchiveCounters* c_;
};

}  // namespace clawback::store
