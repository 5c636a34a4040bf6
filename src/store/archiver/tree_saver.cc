#include "store/archiver/tree_saver.h"

#include <utility>

namespace clawback::store {

Result<Id> TreeSaver::Save(Tree tree) {
  RETURN_IF_ERROR(tree.Sort());
  ASSIGN_OR_RETURN(auto r, repo_->SaveBlob(BlobType::kTree, tree.ToJson()));
  if (!r.known) c_->tree_blobs++;
  return r.id;
}

Status TreeSaver::SaveDir(Node* dir, const Node* pnode, std::vector<Node>* children,
                          const uint8_t* keep) {
  Tree tree;
  tree.nodes.reserve(children->size());
  for (size_t i = 0; i < children->size(); ++i) {
    if (keep[i]) tree.nodes.push_back(std::move((*children)[i]));
  }
  return SaveDir(dir, pnode, std::move(tree));
}

Status TreeSaver::SaveDir(Node* dir, const Node* pnode, Tree tree) {
  ASSIGN_OR_RETURN(Id id, Save(std::move(tree)));
  dir->subtree = id;
  CountDir(*dir, pnode);
  return Status::Ok();
}

void TreeSaver::CountDir(const Node& dir, const Node* pnode) {
  c_->dirs++;
  if (pnode == nullptr || pnode->type != NodeType::kDir) {
    c_->dirs_new++;
  } else if (pnode->subtree && dir.subtree && *pnode->subtree == *dir.subtree) {
    c_->dirs_unmodified++;
  } else {
    c_->dirs_changed++;
  }
}

}  // namespace clawback::store
