#include "store/restorer/tree_walk.h"

namespace clawback::store {
namespace {

std::string Child(const std::string& prefix, const std::string& name) {
  return prefix == "/" ? "/" + name : prefix + "/" + name;
}

bool SameContent(const Node& a, const Node& b) {
  return a.size == b.size && a.content == b.content && a.linktarget == b.linktarget &&
         a.device == b.device;
}

bool SameMetadata(const Node& a, const Node& b) {
  return a.mode == b.mode && a.uid == b.uid && a.gid == b.gid &&
         a.mtime.unix_seconds == b.mtime.unix_seconds && a.mtime.nanos == b.mtime.nanos &&
         a.xattrs == b.xattrs;
}

class Differ {
 public:
  Differ(Repository* repo, DiffStats* stats) : repo_(repo), stats_(stats) {}

  Status AddAll(const std::string& path, const Node& n, Change c) {
    DiffEntry e;
    e.change = c;
    e.path = n.type == NodeType::kDir ? path + "/" : path;
    if (c == Change::kAdded) {
      e.new_type = n.type;
      e.new_size = n.size;
      stats_->added++;
      stats_->bytes_added += n.size;
    } else {
      e.old_type = n.type;
      e.old_size = n.size;
      stats_->removed++;
      stats_->bytes_removed += n.size;
    }
    out_.push_back(std::move(e));
    if (n.type == NodeType::kDir && n.subtree) {
      return WalkTree(repo_, *n.subtree, path, [&](const std::string& p, const Node& child) {
        DiffEntry ce;
        ce.change = c;
        ce.path = child.type == NodeType::kDir ? p + "/" : p;
        if (c == Change::kAdded) {
          ce.new_type = child.type;
          ce.new_size = child.size;
          stats_->added++;
          stats_->bytes_added += child.size;
        } else {
          ce.old_type = child.type;
          ce.old_size = child.size;
          stats_->removed++;
          stats_->bytes_removed += child.size;
        }
        out_.push_back(std::move(ce));
        return Status::Ok();
      });
    }
    return Status::Ok();
  }

  Status Compare(const std::string& prefix, const Id& a, const Id& b) {
    if (a == b) return Status::Ok();
    ASSIGN_OR_RETURN(Tree ta, repo_->LoadTree(a));
    ASSIGN_OR_RETURN(Tree tb, repo_->LoadTree(b));
    size_t i = 0, j = 0;
    while (i < ta.nodes.size() || j < tb.nodes.size()) {
      const Node* na = i < ta.nodes.size() ? &ta.nodes[i] : nullptr;
      const Node* nb = j < tb.nodes.size() ? &tb.nodes[j] : nullptr;
      int cmp = !na ? 1 : !nb ? -1 : na->name.compare(nb->name);
      if (cmp < 0) {
        RETURN_IF_ERROR(AddAll(Child(prefix, na->name), *na, Change::kRemoved));
        ++i;
        continue;
      }
      if (cmp > 0) {
        RETURN_IF_ERROR(AddAll(Child(prefix, nb->name), *nb, Change::kAdded));
        ++j;
        continue;
      }
      const std::string path = Child(prefix, na->name);
      if (na->type != nb->type) {
        DiffEntry e{Change::kTypeChanged, path, na->type, nb->type, na->size, nb->size};
        stats_->type_changed++;
        out_.push_back(std::move(e));
        if (na->type == NodeType::kDir && na->subtree) {
          RETURN_IF_ERROR(WalkTree(repo_, *na->subtree, path, [&](const std::string& p, const Node& c) {
            out_.push_back({Change::kRemoved, c.type == NodeType::kDir ? p + "/" : p, c.type,
                            NodeType::kUnknown, c.size, 0});
            stats_->removed++;
            stats_->bytes_removed += c.size;
            return Status::Ok();
          }));
        }
        if (nb->type == NodeType::kDir && nb->subtree) {
          RETURN_IF_ERROR(WalkTree(repo_, *nb->subtree, path, [&](const std::string& p, const Node& c) {
            out_.push_back({Change::kAdded, c.type == NodeType::kDir ? p + "/" : p,
                            NodeType::kUnknown, c.type, 0, c.size});
            stats_->added++;
            stats_->bytes_added += c.size;
            return Status::Ok();
          }));
        }
      } else if (na->type == NodeType::kDir) {
        if (!SameMetadata(*na, *nb)) {
          out_.push_back({Change::kMetadata, path + "/", na->type, nb->type, 0, 0});
          stats_->metadata++;
        }
        if (na->subtree && nb->subtree) RETURN_IF_ERROR(Compare(path, *na->subtree, *nb->subtree));
      } else if (!SameContent(*na, *nb)) {
        out_.push_back({Change::kModified, path, na->type, nb->type, na->size, nb->size});
        stats_->modified++;
      } else if (!SameMetadata(*na, *nb)) {
        out_.push_back({Change::kMetadata, path, na->type, nb->type, na->size, nb->size});
        stats_->metadata++;
      }
      ++i;
      ++j;
    }
    return Status::Ok();
  }

  std::vector<DiffEntry> Take() { return std::move(out_); }

 private:
  Repository* repo_;
  DiffStats* stats_;
  std::vector<DiffEntry> out_;
};

}  // namespace

Status WalkTree(Repository* repo, const Id& tree, const std::string& prefix,
                const std::function<Status(const std::string& path, const Node& node)>& fn) {
  ASSIGN_OR_RETURN(Tree t, repo->LoadTree(tree));
  for (const Node& n : t.nodes) {
    const std::string path = Child(prefix.empty() ? "/" : prefix, n.name);
    RETURN_IF_ERROR(fn(path, n));
    if (n.type == NodeType::kDir && n.subtree) RETURN_IF_ERROR(WalkTree(repo, *n.subtree, path, fn));
  }
  return Status::Ok();
}

Result<Node> FindNode(Repository* repo, const Id& root, const std::string& path) {
  Node cur;
  cur.type = NodeType::kDir;
  cur.subtree = root;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    i = j + 1;
    if (part.empty() || part == ".") continue;
    if (cur.type != NodeType::kDir || !cur.subtree) {
      return NotFound(path + ": " + cur.name + " is not a directory");
    }
    ASSIGN_OR_RETURN(Tree t, repo->LoadTree(*cur.subtree));
    const Node* n = t.Find(part);
    if (n == nullptr) return NotFound(path + " is not in the snapshot");
    cur = *n;
  }
  return cur;
}

const char* ChangeSymbol(Change c) {
  switch (c) {
    case Change::kAdded: return "+";
    case Change::kRemoved: return "-";
    case Change::kModified: return "M";
    case Change::kMetadata: return "U";
    case Change::kTypeChanged: return "T";
  }
  return "?";
}

const char* ChangeName(Change c) {
  switch (c) {
    case Change::kAdded: return "added";
    case Change::kRemoved: return "removed";
    case Change::kModified: return "modified";
    case Change::kMetadata: return "metadata";
    case Change::kTypeChanged: return "type_changed";
  }
  return "unknown";
}

Result<std::vector<DiffEntry>> DiffTrees(Repository* repo, const Id& a, const Id& b,
                                         DiffStats* stats) {
  DiffStats local;
  Differ d(repo, stats != nullptr ? stats : &local);
  RETURN_IF_ERROR(d.Compare("/", a, b));
  return d.Take();
}

}  // namespace clawback::store
