// TargetTree: how the paths given to a snapshot become its targets (absolute, clean, sorted,
// unique, nested ones dropped) and its root tree (one node per ancestor directory, the
// targets' own nodes at the bottom), with a fake Visitor in place of the archiver.
#include "store/archiver/target_tree.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "store/backend/mem_backend.h"
#include "store/testing/test_repo.h"

namespace clawback::store {
namespace {

namespace fs = std::filesystem;
using Paths = std::vector<std::string>;

TEST(AbsolutePathTest, CleansLexicallyAgainstTheWorkingDirectory) {
  EXPECT_EQ(AbsolutePathFrom("a/../b/", "/cwd"), "/cwd/b");
  EXPECT_EQ(AbsolutePathFrom(".", "/cwd"), "/cwd");
  EXPECT_EQ(AbsolutePathFrom("../..", "/cwd"), "/");
  EXPECT_EQ(AbsolutePathFrom("/x/./y//z/..", "/cwd"), "/x/y");
  EXPECT_EQ(AbsolutePathFrom("/..", "/cwd"), "/");
  EXPECT_EQ(AbsolutePathFrom("///", "/cwd"), "/");
  EXPECT_FALSE(AbsolutePath("").ok());
  ASSERT_OK_AND_ASSIGN(std::string rel, AbsolutePath("some/file"));
  EXPECT_EQ(rel, fs::current_path().string() + "/some/file");
  ASSERT_OK_AND_ASSIGN(std::string abs, AbsolutePath("/etc/../etc/hosts"));
  EXPECT_EQ(abs, "/etc/hosts");
}

TEST(NormalizeTargetsTest, SortsDeduplicatesAndDropsNestedTargets) {
  EXPECT_EQ(NormalizeTargets({"/b", "/a", "/b"}), (Paths{"/a", "/b"}));
  EXPECT_EQ(NormalizeTargets({"/a/b", "/a"}), (Paths{"/a"}));
  EXPECT_EQ(NormalizeTargets({"/a", "/a/b/c", "/a/b"}), (Paths{"/a"}));
  // A common prefix is not nesting: "/ab" and "/a.d" are not inside "/a".
  EXPECT_EQ(NormalizeTargets({"/ab", "/a", "/a.d"}), (Paths{"/a", "/a.d", "/ab"}));
  EXPECT_EQ(NormalizeTargets({"/x/bc", "/x/b"}), (Paths{"/x/b", "/x/bc"}));
  EXPECT_EQ(NormalizeTargets({"/etc", "/", "/home/u"}), (Paths{"/"}));
}

TEST(TargetTreeTest, RelativeAndAbsoluteSpellingsOfOnePathAreOneTarget) {
  TargetTree t(
      {AbsolutePathFrom("x", "/base"), "/base/x", AbsolutePathFrom("./x/../x/y", "/base")});
  EXPECT_EQ(t.targets(), (Paths{"/base/x"}));
}

TEST(TargetTreeTest, TargetsShareTheirAncestors) {
  TargetTree t({"/srv/b", "/srvx", "/srv/a/deep", "/srv/a/deep/er"});
  EXPECT_EQ(t.targets(), (Paths{"/srv/a/deep", "/srv/b", "/srvx"}));
  EXPECT_FALSE(t.whole_file_system());
  const auto& root = t.root();
  ASSERT_EQ(root.children.size(), 2u);
  const auto& srv = root.children.at("srv");
  EXPECT_FALSE(srv.target);
  ASSERT_EQ(srv.children.size(), 2u);
  EXPECT_FALSE(srv.children.at("a").target);
  EXPECT_TRUE(srv.children.at("a").children.at("deep").target);
  EXPECT_TRUE(srv.children.at("a").children.at("deep").children.empty());
  EXPECT_TRUE(srv.children.at("b").target);
  EXPECT_TRUE(root.children.at("srvx").target);
  EXPECT_TRUE(root.children.at("srvx").children.empty());
}

TEST(TargetTreeTest, RootAloneIsTheWholeFileSystem) {
  TargetTree t({"/home", "/"});
  EXPECT_TRUE(t.whole_file_system());
  EXPECT_EQ(t.targets(), (Paths{"/"}));
  EXPECT_TRUE(t.root().children.empty());
}

// A fake archiver: a target becomes a node of its name and type (a directory gets the empty
// tree); an ancestor a directory node of its name. Calls are recorded.
class FakeVisitor : public TargetTree::Visitor {
 public:
  explicit FakeVisitor(TreeSaver* saver) : saver_(saver) {}

  Result<std::optional<Node>> Target(const std::string& path, std::string_view name,
                                     const struct stat& st, const Node* pnode) override {
    targets.push_back(path);
    target_had_parent[path] = pnode != nullptr;
    if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".skip") == 0) {
      return std::optional<Node>();
    }
    Node n;
    n.name = std::string(name);
    n.type = S_ISDIR(st.st_mode) ? NodeType::kDir : NodeType::kFile;
    if (n.type == NodeType::kDir) {
      ASSIGN_OR_RETURN(Id id, saver_->Save(Tree{}));
      n.subtree = id;
    }
    return std::optional<Node>(std::move(n));
  }
  Result<Node> Ancestor(const std::string& path, std::string_view name,
                        const struct stat& st) override {
    ancestors.push_back(path);
    Node n;
    n.name = std::string(name);
    n.type = NodeType::kDir;
    n.mode = kModeDir | (st.st_mode & 0777);
    return n;
  }
  std::optional<Tree> ParentTree(const Node* pnode) override {
    if (pnode == nullptr || !pnode->subtree || repo == nullptr) return std::nullopt;
    auto t = repo->LoadTree(*pnode->subtree);
    if (!t.ok()) return std::nullopt;
    return std::move(*t);
  }

  Repository* repo = nullptr;
  Paths targets, ancestors;
  std::map<std::string, bool> target_had_parent;

 private:
  TreeSaver* saver_;
};

class TargetTreeSaveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(repo_, test::InitTestRepo(&backend_));
    saver_ = std::make_unique<TreeSaver>(repo_.get(), &counters_);
    base_ = fs::canonical(dir_.path()).string();
    fs::create_directories(base_ + "/p/q");
    fs::create_directories(base_ + "/p/r");
    fs::create_directories(base_ + "/real");
    std::ofstream(base_ + "/p/q/f1") << "one";
    std::ofstream(base_ + "/p2") << "two";
    std::ofstream(base_ + "/p/gone.skip") << "left out";
  }
  // The node at absolute `path` below root tree `root`.
  Result<Node> NodeAt(const Id& root, const std::string& path) {
    Id tree = root;
    Node found;
    size_t i = 1;
    while (i <= path.size()) {
      size_t j = path.find('/', i);
      if (j == std::string::npos) j = path.size();
      ASSIGN_OR_RETURN(Tree t, repo_->LoadTree(tree));
      const Node* n = t.Find(path.substr(i, j - i));
      if (n == nullptr) return NotFound(path + ": no node " + path.substr(i, j - i));
      found = *n;
      if (j < path.size()) {
        if (!n->subtree) return NotFound(path + ": no subtree at " + n->name);
        tree = *n->subtree;
      }
      i = j + 1;
    }
    return found;
  }
  size_t Depth() const { return static_cast<size_t>(std::count(base_.begin(), base_.end(), '/')); }

  test::TempDir dir_{"clawback-target-tree"};
  std::string base_;
  MemBackend backend_;
  std::unique_ptr<Repository> repo_;
  ArchiveCounters counters_;
  std::unique_ptr<TreeSaver> saver_;
};

TEST_F(TargetTreeSaveTest, RootTreeMirrorsTheTargetsWithTheirAncestors) {
  TargetTree t({base_ + "/p2", base_ + "/p/q/f1", base_ + "/p/r", base_ + "/p/q/f1",
                base_ + "/p/gone.skip"});
  FakeVisitor v(saver_.get());
  ASSERT_OK_AND_ASSIGN(Id root, t.Save(nullptr, &v, saver_.get()));
  ASSERT_OK(repo_->Flush());

  // Targets visited once each, in name order; every directory above them once.
  EXPECT_EQ(v.targets,
            (Paths{base_ + "/p/gone.skip", base_ + "/p/q/f1", base_ + "/p/r", base_ + "/p2"}));
  EXPECT_EQ(v.ancestors.size(), Depth() + 2);  // every component of the TempDir's path, p, p/q
  EXPECT_EQ(v.ancestors.back(), base_ + "/p/q");
  ASSERT_OK_AND_ASSIGN(Node f1, NodeAt(root, base_ + "/p/q/f1"));
  EXPECT_EQ(f1.type, NodeType::kFile);
  ASSERT_OK_AND_ASSIGN(Node r, NodeAt(root, base_ + "/p/r"));
  EXPECT_EQ(r.type, NodeType::kDir);
  ASSERT_OK_AND_ASSIGN(Node p2, NodeAt(root, base_ + "/p2"));
  EXPECT_EQ(p2.name, "p2");
  // A target the visitor left out is not in its directory's tree; "p" holds q and r only.
  EXPECT_FALSE(NodeAt(root, base_ + "/p/gone.skip").ok());
  ASSERT_OK_AND_ASSIGN(Node p, NodeAt(root, base_ + "/p"));
  ASSERT_OK_AND_ASSIGN(Tree pt, repo_->LoadTree(*p.subtree));
  ASSERT_EQ(pt.nodes.size(), 2u);
  EXPECT_EQ(pt.nodes[0].name, "q");
  EXPECT_EQ(pt.nodes[1].name, "r");
  // Not a file system walk: siblings of the ancestors that are no targets are not there.
  EXPECT_FALSE(NodeAt(root, base_ + "/real").ok());
  // Every ancestor was saved and counted as a new directory; the root tree is not counted.
  EXPECT_EQ(counters_.dirs_new, v.ancestors.size());
}

TEST_F(TargetTreeSaveTest, CommonPrefixesAreSeparateNodes) {
  fs::create_directories(base_ + "/a");
  fs::create_directories(base_ + "/ab");
  TargetTree t({base_ + "/ab", base_ + "/a"});
  FakeVisitor v(saver_.get());
  ASSERT_OK_AND_ASSIGN(Id root, t.Save(nullptr, &v, saver_.get()));
  ASSERT_OK(repo_->Flush());
  EXPECT_EQ(v.targets, (Paths{base_ + "/a", base_ + "/ab"}));
  EXPECT_OK(NodeAt(root, base_ + "/a"));
  EXPECT_OK(NodeAt(root, base_ + "/ab"));
}

TEST_F(TargetTreeSaveTest, ParentSnapshotNodesAreFoundAlongTheSamePaths) {
  TargetTree t({base_ + "/p/q/f1", base_ + "/p2"});
  FakeVisitor first(saver_.get());
  ASSERT_OK_AND_ASSIGN(Id root, t.Save(nullptr, &first, saver_.get()));
  ASSERT_OK(repo_->Flush());
  EXPECT_FALSE(first.target_had_parent[base_ + "/p2"]);

  Node parent_root;
  parent_root.type = NodeType::kDir;
  parent_root.subtree = root;
  FakeVisitor second(saver_.get());
  second.repo = repo_.get();
  ArchiveCounters c;
  TreeSaver saver(repo_.get(), &c);
  ASSERT_OK_AND_ASSIGN(Id again, t.Save(&parent_root, &second, &saver));
  EXPECT_EQ(again, root);
  EXPECT_TRUE(second.target_had_parent[base_ + "/p2"]);
  EXPECT_TRUE(second.target_had_parent[base_ + "/p/q/f1"]);
  EXPECT_EQ(c.dirs_unmodified, second.ancestors.size());
  EXPECT_EQ(c.tree_blobs, 0u);
}

TEST_F(TargetTreeSaveTest, MissingTargetsAndNonDirectoryAncestorsFail) {
  FakeVisitor v(saver_.get());
  auto missing = TargetTree({base_ + "/p/nothing"}).Save(nullptr, &v, saver_.get());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(base_ + "/p/nothing"), std::string::npos);

  // An ancestor that is a symlink to a directory is not followed.
  ASSERT_EQ(symlink("real", (base_ + "/link").c_str()), 0);
  std::ofstream(base_ + "/real/f") << "x";
  auto via_link = TargetTree({base_ + "/link/f"}).Save(nullptr, &v, saver_.get());
  ASSERT_FALSE(via_link.ok());
  EXPECT_EQ(via_link.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(via_link.status().message().find(base_ + "/link is not a directory"),
            std::string::npos);
}

}  // namespace
}  // namespace clawback::store
