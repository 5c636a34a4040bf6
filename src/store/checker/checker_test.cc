// Checker: a clean repository passes; each kind of damage — a corrupted pack, a missing
// pack, index entries pointing nowhere, a tree referencing a blob no index knows, a
// snapshot whose tree is missing — is reported with a message naming what is wrong.
#include "store/checker/checker.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/testing/status_matchers.h"
#include "store/backend/mem_backend.h"
#include "store/index/index_file.h"
#include "store/testing/test_repo.h"

namespace clawback::store {
namespace {

class CheckerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(repo_, test::InitTestRepo(&backend_));
    ASSERT_OK_AND_ASSIGN(first_,
                         test::SaveFlatSnapshot(repo_.get(), {{"a", "alpha"}, {"b", "beta"}}));
    ASSERT_OK_AND_ASSIGN(
        second_, test::SaveFlatSnapshot(repo_.get(), {{"b", "beta"}, {"c", "gamma"}, {"e", ""}},
                                        1'700'000'100));
  }
  // Checks the repository as a fresh `clawback check` would (a new Repository).
  CheckReport Check(bool read_data = true) {
    auto repo = Repository::Open(&backend_, "pw");
    EXPECT_OK(repo);
    if (!repo.ok()) return {};
    Checker c(repo->get(), CheckOptions{read_data, {}, 2});
    auto r = c.Run();
    EXPECT_OK(r);
    return r.ok() ? *r : CheckReport{};
  }
  // The pack holding blob `id`, by name.
  std::string PackOf(const Id& id) {
    for (const Id& p : repo_->index().Packs()) {
      for (const auto& b : repo_->index().PackBlobs(p)) {
        if (b.id == id) return p.Hex();
      }
    }
    ADD_FAILURE() << "no pack holds " << id.Hex();
    return std::string(64, '0');
  }
  static bool AnyContains(const std::vector<std::string>& errors, const std::string& what) {
    return std::any_of(errors.begin(), errors.end(),
                       [&](const std::string& e) { return e.find(what) != std::string::npos; });
  }
  static std::string Joined(const std::vector<std::string>& errors) {
    std::string out;
    for (const auto& e : errors) out += e + "\n";
    return out;
  }

  MemBackend backend_;
  std::unique_ptr<Repository> repo_;
  SnapshotEntry first_, second_;
};

TEST_F(CheckerTest, CleanRepositoryPasses) {
  CheckReport r = Check();
  EXPECT_TRUE(r.ok()) << Joined(r.errors);
  EXPECT_EQ(r.snapshots, 2u);
  EXPECT_EQ(r.trees, 2u);
  EXPECT_GE(r.packs, 2u);  // data and trees go to packs of their own
  EXPECT_EQ(r.packs_read, r.packs);
  EXPECT_TRUE(r.damaged_packs.empty());
  EXPECT_TRUE(r.hints.empty());
}

TEST_F(CheckerTest, CorruptedPackIsReportedWithTheSnapshotsUsingIt) {
  const std::vector<std::string> data = {PackOf(Id::Hash("beta"))};  // both snapshots use it
  ASSERT_OK_AND_ASSIGN(std::string bytes, backend_.Load(FileType::kPack, data[0]));
  bytes[bytes.size() / 3] ^= 0x20;
  ASSERT_OK(backend_.Remove(FileType::kPack, data[0]));
  ASSERT_OK(backend_.Save(FileType::kPack, data[0], bytes));

  EXPECT_TRUE(Check(/*read_data=*/false).ok()) << "the structure alone cannot see it";
  CheckReport r = Check();
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.damaged_packs.size(), 1u);
  EXPECT_EQ(r.damaged_packs[0].pack.Hex(), data[0]);
  EXPECT_EQ(r.damaged_packs[0].snapshots.size(), 2u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(
      r.errors[0].find("pack " + data[0] + " is damaged: its SHA-256 does not match its name"),
      std::string::npos)
      << r.errors[0];
  EXPECT_NE(r.errors[0].find("affected snapshots: "), std::string::npos) << r.errors[0];
}

TEST_F(CheckerTest, MissingPackIsReported) {
  const std::vector<std::string> trees = {PackOf(first_.snapshot.tree)};
  ASSERT_OK(backend_.Remove(FileType::kPack, trees[0]));
  CheckReport r = Check(/*read_data=*/false);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(AnyContains(
      r.errors, "pack " + trees[0].substr(0, 8) + " is listed in the index but missing from data/"))
      << Joined(r.errors);
}

// An index file naming a pack that does not exist, and index entries past the end of a pack
// that does (a truncated upload).
TEST_F(CheckerTest, IndexEntriesPointingNowhereAreReported) {
  IndexFile extra;
  const Id ghost = Id::Hash("no such pack");
  extra.packs.push_back({ghost, {PackedBlob{Id::Hash("blob"), BlobType::kData, 0, 100, 0}}});
  ASSERT_OK(repo_->SaveUnpacked(FileType::kIndex, extra.ToJson()));
  CheckReport r = Check(/*read_data=*/false);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(AnyContains(
      r.errors, "pack " + ghost.ShortHex() + " is listed in the index but missing from data/"))
      << Joined(r.errors);

  const std::vector<std::string> data = {PackOf(Id::Hash("gamma"))};
  ASSERT_OK_AND_ASSIGN(std::string bytes, backend_.Load(FileType::kPack, data[0]));
  ASSERT_OK(backend_.Remove(FileType::kPack, data[0]));
  ASSERT_OK(backend_.Save(FileType::kPack, data[0], bytes.substr(0, bytes.size() - 10)));
  r = Check(/*read_data=*/false);
  EXPECT_TRUE(AnyContains(r.errors, "pack " + data[0].substr(0, 8) + ": unexpected file size " +
                                        std::to_string(bytes.size() - 10) + " (the index implies " +
                                        std::to_string(bytes.size()) + ")"))
      << Joined(r.errors);
}

// A tree that references a data blob no index knows (its pack was never indexed).
TEST_F(CheckerTest, BlobMissingFromTheIndexIsReported) {
  Tree tree;
  Node n;
  n.name = "lost";
  n.size = 4;
  n.content = {Id::Hash("lost")};
  tree.nodes.push_back(n);
  ASSERT_OK_AND_ASSIGN(Id tid, repo_->SaveTree(tree));
  ASSERT_OK(repo_->Flush());
  Snapshot s = second_.snapshot;
  s.tree = tid;
  ASSERT_OK(repo_->SaveSnapshot(s));
  CheckReport r = Check(/*read_data=*/false);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(
      AnyContains(r.errors, "data blob " + Id::Hash("lost").ShortHex() + " is not in the index"))
      << Joined(r.errors);
}

TEST_F(CheckerTest, SnapshotWhoseTreeIsMissingIsReported) {
  Snapshot s = first_.snapshot;
  s.tree = Id::Hash("never stored");
  ASSERT_OK(repo_->SaveSnapshot(s));
  CheckReport r = Check(/*read_data=*/false);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u) << Joined(r.errors);
  EXPECT_EQ(r.errors[0], "tree " + s.tree.ShortHex() + " is not in the index");
}

TEST_F(CheckerTest, UndecodableSnapshotAndUnindexedPackAreReported) {
  ASSERT_OK(backend_.Save(FileType::kSnapshot, Id::Hash("garbage").Hex(), "garbage"));
  ASSERT_OK(backend_.Save(FileType::kPack, Id::Hash("stray").Hex(), "left by a crash"));
  CheckReport r = Check(/*read_data=*/false);
  EXPECT_TRUE(AnyContains(r.errors, "snapshot " + Id::Hash("garbage").ShortHex() + ": "))
      << Joined(r.errors);
  EXPECT_EQ(r.unreferenced_packs, 1u);
  EXPECT_TRUE(AnyContains(r.hints, "1 pack(s) are not referenced by any index"));
}

}  // namespace
}  // namespace clawback::store
