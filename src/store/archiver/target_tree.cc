#include "store/archiver/target_tree.h"

#include "common/path.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace clawback::store {

Result<std::string> AbsolutePath(const std::string& path) {
  if (path.empty()) return InvalidArgument("empty path");
  if (path[0] == '/') return AbsolutePathFrom(path, "/");
  char buf[4096];
  if (getcwd(buf, sizeof buf) == nullptr) return ErrnoStatus("getcwd", errno);
  return AbsolutePathFrom(path, buf);
}

std::string AbsolutePathFrom(const std::string& path, const std::string& cwd) {
  return CleanAbsolutePath(path, cwd);
}

std::vector<std::string> NormalizeTargets(std::vector<std::string> paths) {
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  std::vector<std::string> out;
  for (const auto& p : paths) {
    bool covered = false;
    for (const auto& o : out) {
      if (PathIsWithin(p, o)) {
        covered = true;
        break;
      }
    }
    if (!covered) out.push_back(p);
  }
  return out;
}

TargetTree::TargetTree(std::vector<std::string> paths)
    : targets_(NormalizeTargets(std::move(paths))) {
  if (whole_file_system()) return;
  for (const auto& p : targets_) {
    Dir* d = &root_;
    size_t i = 1;
    while (i <= p.size()) {
      size_t j = p.find('/', i);
      if (j == std::string::npos) j = p.size();
      d = &d->children[p.substr(i, j - i)];
      i = j + 1;
    }
    d->target = true;
  }
}

Result<Id> TargetTree::Save(const Node* parent_root, Visitor* visitor, TreeSaver* saver) const {
  if (whole_file_system()) {
    struct stat st;
    if (lstat("/", &st) != 0) return ErrnoStatus("lstat /", errno);
    if (!S_ISDIR(st.st_mode)) return InvalidArgument("/ is not a directory");
    ASSIGN_OR_RETURN(auto node, visitor->Target("/", "", st, parent_root));
    if (!node || !node->subtree) return Internal("the root directory was archived without a tree");
    return *node->subtree;
  }
  std::optional<Tree> ptree = visitor->ParentTree(parent_root);
  ASSIGN_OR_RETURN(Tree tree, Build(root_, "", ptree ? &*ptree : nullptr, visitor, saver));
  return saver->Save(std::move(tree));
}

Result<Tree> TargetTree::Build(const Dir& dir, const std::string& prefix, const Tree* ptree,
                               Visitor* visitor, TreeSaver* saver) const {
  Tree tree;
  for (const auto& [name, child] : dir.children) {
    const std::string full = prefix + "/" + name;
    struct stat st;
    if (lstat(full.c_str(), &st) != 0) return ErrnoStatus("lstat " + full, errno);
    const Node* pnode = ptree ? ptree->Find(name) : nullptr;
    if (child.target) {
      ASSIGN_OR_RETURN(auto n, visitor->Target(full, name, st, pnode));
      if (n) tree.nodes.push_back(std::move(*n));
      continue;
    }
    if (!S_ISDIR(st.st_mode)) return InvalidArgument(full + " is not a directory");
    ASSIGN_OR_RETURN(Node n, visitor->Ancestor(full, name, st));
    std::optional<Tree> sub = visitor->ParentTree(pnode);
    ASSIGN_OR_RETURN(Tree t, Build(child, full, sub ? &*sub : nullptr, visitor, saver));
    RETURN_IF_ERROR(saver->SaveDir(&n, pnode, std::move(t)));
    tree.nodes.push_back(std::move(n));
  }
  return tree;
}

}  // namespace clawback::store
