// TreeSaver: a directory's children become one tree blob, sorted by raw name bytes and
// encoded byte for byte as restic 0.14 writes it (restic format spec §10.1, §18.5); an
// identical tree is stored once; finished directories are counted against the parent.
#include "store/archiver/tree_saver.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "store/backend/mem_backend.h"
#include "store/testing/test_repo.h"

namespace clawback::store {
namespace {

Timestamp T(std::string_view rfc3339) { return *Timestamp::Parse(rfc3339); }

Node File(const std::string& name) {
  Node n;
  n.name = name;
  n.type = NodeType::kFile;
  n.mode = 0644;
  return n;
}

class TreeSaverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(repo_, test::InitTestRepo(&backend_));
    saver_ = std::make_unique<TreeSaver>(repo_.get(), &counters_);
  }
  // The stored tree blob's bytes.
  std::string Stored(const Id& id) {
    EXPECT_OK(repo_->Flush());
    auto b = repo_->LoadBlob(BlobType::kTree, id);
    EXPECT_OK(b);
    return b.ok() ? *b : std::string();
  }

  MemBackend backend_;
  std::unique_ptr<Repository> repo_;
  ArchiveCounters counters_;
  std::unique_ptr<TreeSaver> saver_;
};

// The golden repository's tree (spec §18.5), which restic 0.14 checked and restored: the
// same nodes, given in the wrong order, give exactly restic's bytes and id.
TEST_F(TreeSaverTest, EncodesATreeByteForByteAsRestic) {
  const std::string want =
      R"({"nodes":[{"name":"a.txt","type":"file","mode":420,"mtime":"2024-01-01T00:00:00Z",)"
      R"("atime":"2024-01-01T00:00:00Z","ctime":"2024-01-01T00:00:00Z","uid":0,"gid":0,)"
      R"("size":100,"links":1,"content":["2816597888e4a0d3a36b82b83316ab32680eb8f00f8cd3b904d681246d285a0e"]},)"
      R"({"name":"hello.txt","type":"file","mode":420,"mtime":"2024-01-01T00:00:00Z",)"
      R"("atime":"2024-01-01T00:00:00Z","ctime":"2024-01-01T00:00:00Z","uid":0,"gid":0,)"
      R"("size":13,"links":1,"content":["fbbd69198637d5360353c39796181175de6311c2a61abe2fe6392c938018660f"]}]})"
      "\n";
  Tree tree;
  for (auto [name, size, blob] :
       {std::tuple{"hello.txt", 13,
                   "fbbd69198637d5360353c39796181175de6311c2a61abe2fe6392c938018660f"},
        std::tuple{"a.txt", 100,
                   "2816597888e4a0d3a36b82b83316ab32680eb8f00f8cd3b904d681246d285a0e"}}) {
    Node n = File(name);
    n.mode = 420;
    n.mtime = n.atime = n.ctime = T("2024-01-01T00:00:00Z");
    n.size = static_cast<uint64_t>(size);
    n.links = 1;
    n.content = {*Id::Parse(blob)};
    tree.nodes.push_back(n);
  }
  ASSERT_OK_AND_ASSIGN(Id id, saver_->Save(tree));
  EXPECT_EQ(id.Hex(), "7bd7c42c3ade637f520a6421a46065d3b46644a509dd2fa0117940edd7cedbbb");
  EXPECT_EQ(Stored(id), want);
}

TEST_F(TreeSaverTest, EmptyDirectoryIsResticsEmptyTree) {
  ASSERT_OK_AND_ASSIGN(Id id, saver_->Save(Tree{}));
  EXPECT_EQ(id.Hex(), "ac08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523fee8");
  EXPECT_EQ(Stored(id), "{\"nodes\":[]}\n");
}

// restic looks nodes up by binary search over the raw (unquoted) name bytes compared as
// unsigned: upper case before lower case, a prefix before its extensions, 0xff last.
TEST_F(TreeSaverTest, SortsNodesByRawNameBytes) {
  Tree tree;
  for (const char* name : {"b", "\xff", "a.txt", "B", "a", "\x01"})
    tree.nodes.push_back(File(name));
  ASSERT_OK_AND_ASSIGN(Id id, saver_->Save(tree));
  ASSERT_OK_AND_ASSIGN(Tree back, Tree::Parse(Stored(id)));
  std::vector<std::string> names;
  for (const Node& n : back.nodes) names.push_back(n.name);
  EXPECT_EQ(names, (std::vector<std::string>{"\x01", "B", "a", "a.txt", "b", "\xff"}));
  EXPECT_NE(back.Find("a.txt"), nullptr);
}

TEST_F(TreeSaverTest, IdenticalTreesAreStoredOnce) {
  Tree a;
  a.nodes = {File("x"), File("y")};
  Tree b;
  b.nodes = {File("y"), File("x")};  // same directory, listed in another order
  ASSERT_OK_AND_ASSIGN(Id first, saver_->Save(a));
  ASSERT_OK_AND_ASSIGN(Id second, saver_->Save(b));
  EXPECT_EQ(first, second);
  EXPECT_EQ(counters_.tree_blobs, 1u);
  ASSERT_OK(repo_->Flush());
  EXPECT_EQ(repo_->write_stats().blobs_saved, 1u);
  EXPECT_EQ(repo_->write_stats().blobs_known, 1u);

  // Also across sessions: a reopened repository knows the tree from its index.
  ASSERT_OK_AND_ASSIGN(auto reopened, Repository::Open(&backend_, "pw"));
  ASSERT_OK(reopened->LoadIndex());
  ArchiveCounters c;
  TreeSaver again(reopened.get(), &c);
  ASSERT_OK_AND_ASSIGN(Id third, again.Save(a));
  EXPECT_EQ(third, first);
  EXPECT_EQ(c.tree_blobs, 0u);

  Tree other;
  other.nodes = {File("x")};
  ASSERT_OK_AND_ASSIGN(Id different, saver_->Save(other));
  EXPECT_NE(different, first);
  EXPECT_EQ(counters_.tree_blobs, 2u);
}

TEST_F(TreeSaverTest, DuplicateNamesAreRejectedAndNothingIsStored) {
  Tree tree;
  tree.nodes = {File("same"), File("other"), File("same")};
  auto id = saver_->Save(tree);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(counters_.tree_blobs, 0u);
  EXPECT_EQ(repo_->write_stats().blobs_saved, 0u);
}

// SaveDir keeps only the children marked kept (the others were left out of the snapshot:
// unreadable, vanished), sets the directory's subtree and counts it.
TEST_F(TreeSaverTest, SaveDirKeepsMarkedChildrenAndCountsTheDirectory) {
  std::vector<Node> children = {File("kept-1"), File("dropped"), File("kept-2")};
  const uint8_t keep[] = {1, 0, 1};
  Node dir;
  dir.name = "d";
  dir.type = NodeType::kDir;
  ASSERT_OK(saver_->SaveDir(&dir, nullptr, &children, keep));
  ASSERT_TRUE(dir.subtree.has_value());
  ASSERT_OK_AND_ASSIGN(Tree stored, Tree::Parse(Stored(*dir.subtree)));
  ASSERT_EQ(stored.nodes.size(), 2u);
  EXPECT_EQ(stored.nodes[0].name, "kept-1");
  EXPECT_EQ(stored.nodes[1].name, "kept-2");
  EXPECT_EQ(counters_.dirs, 1u);
  EXPECT_EQ(counters_.dirs_new, 1u);

  // Against the parent's node: the same subtree is unmodified, another one changed, a
  // parent node that was not a directory makes it new.
  Node same = dir;
  std::vector<Node> again = {File("kept-1"), File("kept-2")};
  const uint8_t all[] = {1, 1};
  Node dir2 = dir;
  dir2.subtree.reset();
  ASSERT_OK(saver_->SaveDir(&dir2, &same, &again, all));
  EXPECT_EQ(dir2.subtree, dir.subtree);
  EXPECT_EQ(counters_.dirs_unmodified, 1u);

  Tree changed;
  changed.nodes = {File("kept-1")};
  Node dir3 = dir;
  ASSERT_OK(saver_->SaveDir(&dir3, &same, changed));
  EXPECT_NE(dir3.subtree, dir.subtree);
  EXPECT_EQ(counters_.dirs_changed, 1u);

  Node was_file = File("d");
  Node dir4 = dir;
  ASSERT_OK(saver_->SaveDir(&dir4, &was_file, Tree{}));
  EXPECT_EQ(counters_.dirs_new, 2u);
  EXPECT_EQ(counters_.dirs, 4u);
}

}  // namespace
}  // namespace clawback::store
