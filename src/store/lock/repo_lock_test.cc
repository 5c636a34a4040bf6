#include "store/lock/repo_lock.h"

#include <gtest/gtest.h>

#include "store/backend/mem_backend.h"

namespace clawback::store {
namespace {

class RepoLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitOptions init;
    init.kdf = KdfParams{1024, 8, 1};
    auto r = Repository::Init(&backend_, "pw", init);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    repo_ = std::move(*r);
  }
  size_t LockFiles() { return repo_->List(FileType::kLock)->size(); }

  MemBackend backend_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(RepoLockTest, SharedLocksCoexistExclusiveExcludes) {
  auto a = RepoLock::Acquire(repo_.get(), LockKind::kShared);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = RepoLock::Acquire(repo_.get(), LockKind::kShared);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(LockFiles(), 2u);
  auto x = RepoLock::Acquire(repo_.get(), LockKind::kExclusive);
  ASSERT_FALSE(x.ok());
  EXPECT_EQ(x.status().code(), StatusCode::kLocked);
  EXPECT_NE(x.status().message().find("shared lock by"), std::string::npos);
  EXPECT_EQ(LockFiles(), 2u);  // the failed attempt left nothing behind
  ASSERT_TRUE((*a)->Release().ok());
  ASSERT_TRUE((*a)->Release().ok());  // idempotent
  b->reset();                          // destructor releases
  EXPECT_EQ(LockFiles(), 0u);
  auto y = RepoLock::Acquire(repo_.get(), LockKind::kExclusive);
  ASSERT_TRUE(y.ok());
  auto s = RepoLock::Acquire(repo_.get(), LockKind::kShared);
  EXPECT_EQ(s.status().code(), StatusCode::kLocked);
}

TEST_F(RepoLockTest, StaleLocksStillBlockUntilUnlocked) {
  LockInfo dead = LockInfo::ForThisProcess(true, Timestamp::Now());
  dead.pid = 0x3fffffff;  // no such process on this host
  ASSERT_TRUE(repo_->SaveUnpacked(FileType::kLock, dead.ToJson()).ok());
  LockInfo old = LockInfo::ForThisProcess(false, Timestamp::FromUnixUtc(1'600'000'000, 0));
  old.hostname = "another-host";
  ASSERT_TRUE(repo_->SaveUnpacked(FileType::kLock, old.ToJson()).ok());
  LockInfo live = LockInfo::ForThisProcess(false, Timestamp::Now());
  ASSERT_TRUE(repo_->SaveUnpacked(FileType::kLock, live.ToJson()).ok());

  auto locks = ListLocks(repo_.get());
  ASSERT_TRUE(locks.ok());
  ASSERT_EQ(locks->size(), 3u);
  int stale = 0;
  for (const auto& l : *locks) stale += l.stale;
  EXPECT_EQ(stale, 2);

  auto blocked = RepoLock::Acquire(repo_.get(), LockKind::kShared);
  ASSERT_FALSE(blocked.ok());
  EXPECT_NE(blocked.status().message().find("clawback unlock"), std::string::npos);

  auto removed = RemoveLocks(repo_.get(), false);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 2);
  EXPECT_EQ(LockFiles(), 1u);  // the live one stays
  EXPECT_TRUE(RepoLock::Acquire(repo_.get(), LockKind::kShared).ok());
  EXPECT_EQ(*RemoveLocks(repo_.get(), true), 1);
  EXPECT_EQ(LockFiles(), 0u);
}

TEST_F(RepoLockTest, RefreshReplacesTheLockFile) {
  auto l = RepoLock::Acquire(repo_.get(), LockKind::kExclusive);
  ASSERT_TRUE(l.ok());
  const Id first = (*l)->id();
  ASSERT_TRUE((*l)->Refresh().ok());
  EXPECT_NE((*l)->id(), first);
  auto ids = repo_->List(FileType::kLock);
  ASSERT_EQ(ids->size(), 1u);
  EXPECT_EQ((*ids)[0], (*l)->id());
  ASSERT_TRUE((*l)->Release().ok());
  EXPECT_EQ(LockFiles(), 0u);
}

TEST_F(RepoLockTest, BackgroundRefresh) {
  LockOptions o;
  o.refresh_every_seconds = 1;
  auto l = RepoLock::Acquire(repo_.get(), LockKind::kShared, o);
  ASSERT_TRUE(l.ok());
  const Id first = (*l)->id();
  for (int i = 0; i < 40 && (*l)->id() == first; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE((*l)->id(), first);
  EXPECT_EQ(LockFiles(), 1u);
}

}  // namespace
}  // namespace clawback::store
