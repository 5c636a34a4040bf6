#include "store/lock/lock_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace clawback::store {
namespace {

TEST(LockFile, JsonInResticsOrderWithZeroIdsOmitted) {
  LockInfo l;
  l.time = Timestamp::FromUnixUtc(1795600000, 350625000);
  l.exclusive = false;
  l.hostname = "vm";
  l.username = "root";
  l.pid = 19608;
  EXPECT_EQ(l.ToJson(),
            "{\"time\":\"2026-11-25T09:46:40.350625Z\",\"exclusive\":false,\"hostname\":\"vm\","
            "\"username\":\"root\",\"pid\":19608}");
  l.uid = 1000;
  l.gid = 1001;
  l.exclusive = true;
  EXPECT_EQ(l.ToJson(),
            "{\"time\":\"2026-11-25T09:46:40.350625Z\",\"exclusive\":true,\"hostname\":\"vm\","
            "\"username\":\"root\",\"pid\":19608,\"uid\":1000,\"gid\":1001}");
}

TEST(LockFile, ParsesResticsLock) {
  auto l = LockInfo::Parse(
      R"({"time":"2026-11-27T01:45:42.350625+02:00","exclusive":true,"hostname":"vm",)"
      R"("username":"root","pid":19608,"uid":1000,"gid":1000})");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_TRUE(l->exclusive);
  EXPECT_EQ(l->hostname, "vm");
  EXPECT_EQ(l->pid, 19608);
  EXPECT_EQ(l->uid, 1000u);
  EXPECT_EQ(l->time.utc_offset_seconds, 7200);
  auto round = LockInfo::Parse(l->ToJson());
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->ToJson(), l->ToJson());
}

TEST(LockFile, RejectsGarbage) {
  EXPECT_FALSE(LockInfo::Parse("").ok());
  EXPECT_FALSE(LockInfo::Parse("[]").ok());
  EXPECT_FALSE(LockInfo::Parse(R"({"exclusive":true})").ok());
  EXPECT_FALSE(LockInfo::Parse(R"({"time":"yesterday"})").ok());
  EXPECT_FALSE(LockInfo::Parse(R"({"time":"2026-11-27T01:45:42Z","pid":"x"})").ok());
  EXPECT_FALSE(LockInfo::Parse(R"({"time":"2026-11-27T01:45:42Z","exclusive":1})").ok());
}

TEST(LockFile, ConflictRules) {
  LockInfo shared, excl;
  excl.exclusive = true;
  EXPECT_FALSE(LockConflicts(false, shared));
  EXPECT_TRUE(LockConflicts(false, excl));
  EXPECT_TRUE(LockConflicts(true, shared));
  EXPECT_TRUE(LockConflicts(true, excl));
}

TEST(LockFile, StaleByAgeOrDeadProcessOnThisHost) {
  const Timestamp now = Timestamp::FromUnixUtc(1'800'000'000, 0);
  LockInfo l;
  l.hostname = "here";
  l.pid = 42;
  auto alive = [](int64_t) { return true; };
  auto dead = [](int64_t) { return false; };
  l.time = Timestamp::FromUnixUtc(now.unix_seconds - 29 * 60, 0);
  EXPECT_FALSE(LockIsStale(l, now, "here", alive));
  EXPECT_TRUE(LockIsStale(l, now, "here", dead));
  EXPECT_FALSE(LockIsStale(l, now, "elsewhere", dead));  // can't see other hosts' pids
  l.time = Timestamp::FromUnixUtc(now.unix_seconds - 31 * 60, 0);
  EXPECT_TRUE(LockIsStale(l, now, "elsewhere", alive));
}

TEST(LockFile, ThisProcessIsAliveAndDescribed) {
  auto l = LockInfo::ForThisProcess(true, Timestamp::Now());
  EXPECT_EQ(l.pid, getpid());
  EXPECT_TRUE(ProcessExists(l.pid));
  EXPECT_FALSE(LockIsStale(l, Timestamp::Now(), ThisHostname()));
  EXPECT_NE(l.Describe().find("exclusive lock by"), std::string::npos);
  // A pid far beyond pid_max does not exist.
  EXPECT_FALSE(ProcessExists(0x3fffffff));
}

}  // namespace
}  // namespace clawback::store
