#include "common/uuid.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <set>
#include <thread>

namespace clawback {
namespace {

TEST(Uuid, ParseAndFormatRoundTrip) {
  auto u = Uuid::Parse("0190A1B2-C3D4-7E5F-8a9b-0c1d2e3f4a5b");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->ToString(), "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  EXPECT_EQ(u->ToHex(), "0190a1b2c3d47e5f8a9b0c1d2e3f4a5b");
  EXPECT_EQ(u->version(), 7);
  EXPECT_EQ(Uuid::Parse(u->ToHex()), u);
  EXPECT_FALSE(Uuid::Parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5").has_value());
  EXPECT_FALSE(Uuid::Parse("0190a1b2xc3d4-7e5f-8a9b-0c1d2e3f4a5b").has_value());
  EXPECT_FALSE(Uuid::Parse("zz90a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").has_value());
  EXPECT_FALSE(Uuid::Parse("").has_value());
}

TEST(UuidV7, LayoutFollowsRfc9562) {
  ManualClock clock(1'732'670'000'123'000'000);  // ms = 1732670000123
  UuidV7Generator gen(clock);
  Uuid u = gen.Next();
  EXPECT_EQ(u.version(), 7);
  EXPECT_EQ(u.bytes()[8] & 0xC0, 0x80);  // variant 10
  EXPECT_EQ(u.UnixMillis(), 1'732'670'000'123);
}

TEST(UuidV7, MonotonicWithinOneMillisecond) {
  ManualClock clock;
  UuidV7Generator gen(clock);
  Uuid prev = gen.Next();
  for (int i = 0; i < 10000; ++i) {  // far more than 4096: exercises counter overflow
    Uuid next = gen.Next();
    ASSERT_LT(prev, next) << i;
    ASSERT_LT(prev.ToString(), next.ToString()) << i;  // text-sortable too
    prev = next;
  }
}

TEST(UuidV7, MonotonicWhenTheClockStepsBack) {
  ManualClock clock;
  UuidV7Generator gen(clock);
  Uuid a = gen.Next();
  clock.Advance(std::chrono::milliseconds(-5));
  Uuid b = gen.Next();
  EXPECT_LT(a, b);
}

TEST(UuidV7, UniqueAcrossThreads) {
  UuidV7Generator gen;
  std::vector<std::vector<Uuid>> per(4);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) per[t].push_back(gen.Next());
    });
  for (auto& t : ts) t.join();
  std::set<Uuid> all;
  for (auto& v : per) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 20000u);
}

// Runs `f` in a forked child and returns the 16 bytes it produced there ("" on failure).
std::string InForkedChild(const std::function<std::string()>& f) {
  int fds[2];
  if (pipe(fds) != 0) return "";
  pid_t pid = fork();
  if (pid < 0) return "";
  if (pid == 0) {
    std::string t = f();
    ssize_t n = write(fds[1], t.data(), t.size());
    _exit(n == static_cast<ssize_t>(t.size()) ? 0 : 1);
  }
  close(fds[1]);
  char buf[16];
  ssize_t got = read(fds[0], buf, sizeof buf);
  close(fds[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || status != 0 || got != 16) return "";
  return std::string(buf, 16);
}

// The random bits come from a pool: ids keep distinct random parts across pool refills,
// and a forked child does not reuse the bytes its parent holds.
TEST(UuidV7, RandomBitsDifferAcrossPoolRefillsAndForks) {
  ManualClock clock;
  UuidV7Generator gen(clock);
  auto tail = [](const Uuid& u) {
    std::string s = u.ToHex();
    return s.substr(16);  // bytes 8-15: random only
  };
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(seen.insert(tail(gen.Next())).second) << i;
  gen.Next();  // the pool now holds unused bytes
  std::string child = InForkedChild([&] { return tail(gen.Next()); });
  ASSERT_EQ(child.size(), 16u);
  std::string parent = tail(gen.Next());
  EXPECT_NE(child, parent);
  EXPECT_EQ(seen.count(child), 0u);
}

// Pooled random bytes (blob IVs): never repeated across refills, threads or a fork.
TEST(RandomBytesPooled, DifferAcrossRefillsThreadsAndForks) {
  auto next = [] {
    uint8_t b[16];
    RandomBytesPooled(b, sizeof b);
    return std::string(reinterpret_cast<char*>(b), sizeof b);
  };
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(seen.insert(next()).second) << i;  // ~16 refills
  std::string other;
  std::thread([&] { other = next(); }).join();
  EXPECT_TRUE(seen.insert(other).second);
  next();  // the pool now holds unused bytes
  std::string child = InForkedChild(next);
  ASSERT_EQ(child.size(), 16u);
  EXPECT_NE(child, next());  // the parent's next bytes are not the child's
  EXPECT_EQ(seen.count(child), 0u);
  // Requests above 64 bytes go straight to the CSPRNG.
  uint8_t big[100] = {};
  RandomBytesPooled(big, sizeof big);
  EXPECT_TRUE(std::any_of(big, big + sizeof big, [](uint8_t b) { return b != 0; }));
}

TEST(Hex, RoundTrip) {
  std::string out;
  EXPECT_TRUE(HexDecode("00ff10Ab", &out));
  EXPECT_EQ(HexEncode(out), "00ff10ab");
  EXPECT_FALSE(HexDecode("abc", &out));
  EXPECT_FALSE(HexDecode("zz", &out));
}

}  // namespace
}  // namespace clawback
