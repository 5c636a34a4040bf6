// TargetTree: the tree of a snapshot's target paths (restic's archiver.Tree) — how the paths
// given to `clawback snapshot` become the snapshot's root tree.
//
// The paths are made absolute and clean (AbsolutePath), sorted, deduplicated, and a path
// inside another target is dropped ("/a" covers "/a/b"; "/ab" is not inside "/a"). What is
// left are the snapshot's `paths`. The root tree mirrors them: one directory node per path
// component above a target (an "ancestor", with that directory's real metadata, as restic
// does), and at the bottom the target's own node — a directory archived with everything
// below it, or a file, symlink, device…. Targets sharing ancestors share their nodes:
// "/srv/a" and "/srv/b" give a root tree with one node "srv" whose tree holds "a" and "b".
// The only target "/" is archived as the root directory itself (its tree is the root tree).
//
// What archiving a target means is the caller's (the archiver's): Save() asks a Visitor.
// The ancestors' trees are saved through a TreeSaver and counted as directories; the root
// tree is saved but not counted (it has no node).
//
// Thread-safety: a TargetTree is a value; Save() runs on one thread (the visitor may use
// others meanwhile).
#pragma once

#include <sys/stat.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/archiver/tree_saver.h"
#include "store/tree.h"

namespace clawback::store {

// Cleans a path lexically and makes it absolute against the working directory
// ("a/../b/" -> "/cwd/b"). Symlinks are not resolved (as restic).
Result<std::string> AbsolutePath(const std::string& path);
// The same against `cwd` (absolute) instead of the working directory.
std::string AbsolutePathFrom(const std::string& path, const std::string& cwd);

// Sorted, unique, with nested targets dropped ("/a" covers "/a/b", "/" covers everything).
// REQUIRES: every path is absolute and clean (AbsolutePath).
std::vector<std::string> NormalizeTargets(std::vector<std::string> paths);

class TargetTree {
 public:
  // One directory of the tree: its children by name (raw bytes, so in restic's order), and
  // whether it is itself a target (then it has no children here).
  struct Dir {
    std::map<std::string, Dir> children;
    bool target = false;
  };

  // What Save() needs from the archiver.
  class Visitor {
   public:
    virtual ~Visitor() = default;
    // Archives target `path` (lstat'ed as `st`; `name` its last component, "" for "/") as a
    // node: a directory with its subtree, or anything else. Nothing: left out of the
    // snapshot (a socket, a file that could not be read; the visitor warns). An error
    // fails the snapshot. `pnode`: the target's node in the parent snapshot, or null.
    virtual Result<std::optional<Node>> Target(const std::string& path, std::string_view name,
                                               const struct stat& st, const Node* pnode) = 0;
    // The node of the directory `path` above a target (its metadata; Save sets the subtree).
    virtual Result<Node> Ancestor(const std::string& path, std::string_view name,
                                  const struct stat& st) = 0;
    // The parent snapshot's tree below directory node `pnode`; nothing when pnode is null,
    // not a directory, or its tree cannot be loaded (then nothing is reused below it).
    virtual std::optional<Tree> ParentTree(const Node* pnode) = 0;
  };

  // REQUIRES: every path is absolute and clean (AbsolutePath); they are normalized here.
  explicit TargetTree(std::vector<std::string> paths);

  // The normalized targets: the snapshot's `paths`.
  const std::vector<std::string>& targets() const { return targets_; }
  // True when the only target is "/" (root() is then empty).
  bool whole_file_system() const { return targets_.size() == 1 && targets_[0] == "/"; }
  const Dir& root() const { return root_; }

  // Archives the targets through `visitor` and saves the root tree; returns its id.
  // `parent_root`: a directory node whose subtree is the parent snapshot's root tree, or
  // null (no parent). Every target and ancestor is lstat'ed (NotFound etc. fail the
  // snapshot); an ancestor that is not a directory is InvalidArgument.
  Result<Id> Save(const Node* parent_root, Visitor* visitor, TreeSaver* saver) const;

 private:
  // The tree holding `dir`'s children, `prefix` its path ("" for the root).
  Result<Tree> Build(const Dir& dir, const std::string& prefix, const Tree* ptree, Visitor* visitor,
                     TreeSaver* saver) const;

  std::vector<std::string> targets_;
  Dir root_;
};

}  // namespace clawback::store
