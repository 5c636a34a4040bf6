// Prune: blobs no snapshot references are removed, referenced ones kept and readable, the
// repository checks clean afterwards, a dry run changes nothing, and an incomplete index
// stops the prune before anything is deleted.
#include "store/forget/prune.h"

#include <gtest/gtest.h>

#include <map>

#include "common/testing/status_matchers.h"
#include "store/backend/mem_backend.h"
#include "store/checker/checker.h"
#include "store/testing/test_repo.h"

namespace clawback::store {
namespace {

class PruneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(repo_, test::InitTestRepo(&backend_));
    // Both snapshots share "shared"; "old" only the first, "new" only the second. One flush
    // per snapshot, so the first snapshot's pack mixes used and unused blobs (a repack).
    ASSERT_OK_AND_ASSIGN(first_, test::SaveFlatSnapshot(repo_.get(), {{"old", "only in the first"},
                                                                      {"shared", "in both"}}));
    ASSERT_OK_AND_ASSIGN(
        second_,
        test::SaveFlatSnapshot(repo_.get(), {{"new", "only in the second"}, {"shared", "in both"}},
                               1'700'000'100));
  }
  // Every file in the backend, by type and name, with its contents.
  std::map<std::pair<int, std::string>, std::string> Files() {
    std::map<std::pair<int, std::string>, std::string> out;
    for (FileType t : {FileType::kPack, FileType::kIndex, FileType::kSnapshot, FileType::kKey,
                       FileType::kLock}) {
      auto list = backend_.List(t);
      EXPECT_OK(list);
      if (!list.ok()) continue;
      for (const auto& f : *list) out[{static_cast<int>(t), f.name}] = *backend_.Load(t, f.name);
    }
    return out;
  }
  void Forget(const SnapshotEntry& s) {
    ASSERT_OK(backend_.Remove(FileType::kSnapshot, s.id.Hex()));
  }
  std::unique_ptr<Repository> Reopen() {
    auto r = Repository::Open(&backend_, "pw");
    EXPECT_OK(r);
    EXPECT_OK((*r)->LoadIndex());
    return std::move(*r);
  }

  MemBackend backend_;
  std::unique_ptr<Repository> repo_;
  SnapshotEntry first_, second_;
};

TEST_F(PruneTest, UnreferencedBlobsGoReferencedOnesStay) {
  Forget(first_);
  ASSERT_OK_AND_ASSIGN(PruneReport rep, Prune(repo_.get(), PruneOptions{}));
  EXPECT_EQ(rep.blobs_unused, 2u);  // "only in the first" and the first snapshot's tree
  EXPECT_EQ(rep.blobs_used, 3u);    // "in both", "only in the second", the second tree
  EXPECT_GE(rep.packs_repacked + rep.packs_deleted, 1u);
  EXPECT_EQ(rep.index_files_written, 1u);

  auto fresh = Reopen();
  EXPECT_FALSE(fresh->HasBlob(BlobType::kData, Id::Hash("only in the first")));
  EXPECT_FALSE(fresh->HasBlob(BlobType::kTree, first_.snapshot.tree));
  for (const char* kept : {"in both", "only in the second"}) {
    ASSERT_OK_AND_ASSIGN(std::string data, fresh->LoadBlob(BlobType::kData, Id::Hash(kept)));
    EXPECT_EQ(data, kept);
  }
  EXPECT_OK(fresh->LoadTree(second_.snapshot.tree));
  ASSERT_OK_AND_ASSIGN(auto index_files, fresh->List(FileType::kIndex));
  EXPECT_EQ(index_files.size(), 1u);

  Checker checker(fresh.get(), CheckOptions{true, {}, 2});
  ASSERT_OK_AND_ASSIGN(CheckReport check, checker.Run());
  EXPECT_TRUE(check.ok()) << check.errors[0];
  EXPECT_EQ(check.unreferenced_packs, 0u);

  // Nothing left to do the second time.
  ASSERT_OK_AND_ASSIGN(PruneReport again, Prune(fresh.get(), PruneOptions{}));
  EXPECT_EQ(again.blobs_unused, 0u);
  EXPECT_EQ(again.packs_deleted + again.packs_repacked + again.packs_unindexed, 0u);
}

TEST_F(PruneTest, EverySnapshotForgottenLeavesNoPacks) {
  Forget(first_);
  Forget(second_);
  ASSERT_OK_AND_ASSIGN(PruneReport rep, Prune(repo_.get(), PruneOptions{}));
  EXPECT_EQ(rep.blobs_used, 0u);
  EXPECT_EQ(rep.packs_kept + rep.packs_repacked, 0u);
  EXPECT_GT(rep.bytes_freed, 0u);
  ASSERT_OK_AND_ASSIGN(auto packs, backend_.List(FileType::kPack));
  EXPECT_TRUE(packs.empty());
}

TEST_F(PruneTest, DryRunChangesNothing) {
  Forget(first_);
  ASSERT_OK(backend_.Save(FileType::kPack, Id::Hash("stray").Hex(), "left by a crash"));
  const auto before = Files();
  ASSERT_OK_AND_ASSIGN(PruneReport rep, Prune(repo_.get(), PruneOptions{/*dry_run=*/true}));
  EXPECT_EQ(rep.blobs_unused, 2u);  // what a real prune would remove
  EXPECT_EQ(rep.packs_unindexed, 1u);
  EXPECT_EQ(rep.packs_written, 0u);
  EXPECT_EQ(rep.index_files_written, 0u);
  EXPECT_EQ(Files(), before);
  EXPECT_TRUE(Reopen()->HasBlob(BlobType::kData, Id::Hash("only in the first")));

  // The real prune then removes the unindexed pack too.
  ASSERT_OK_AND_ASSIGN(PruneReport real, Prune(repo_.get(), PruneOptions{}));
  EXPECT_EQ(real.packs_unindexed, 1u);
  EXPECT_FALSE(backend_.Stat(FileType::kPack, Id::Hash("stray").Hex()).ok());
}

TEST_F(PruneTest, IncompleteIndexStopsBeforeDeletingAnything) {
  Forget(first_);
  Snapshot s = second_.snapshot;
  s.tree = Id::Hash("a tree no index knows");
  ASSERT_OK(repo_->SaveSnapshot(s));
  const auto before = Files();
  auto rep = Prune(repo_.get(), PruneOptions{});
  ASSERT_FALSE(rep.ok());
  EXPECT_EQ(rep.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(rep.status().message().find("index is not complete"), std::string::npos)
      << rep.status().ToString();
  EXPECT_EQ(Files(), before);
}

}  // namespace
}  // namespace clawback::store
