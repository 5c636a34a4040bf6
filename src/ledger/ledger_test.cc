// Unit tests of what both backends share: the chain's canonical bytes and hash, role
// names, and OpenLedger's URL handling.
#include "ledger/ledger.h"
#include "common/testing/temp_dir.h"
#include "ledger/sqlite/sqlite_ledger.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <thread>

namespace clawback::ledger {
namespace {

Event SampleEvent() {
  Event e;
  e.seq = 7;
  e.id = *Uuid::Parse("01936f0e-1a2b-7c3d-8e4f-0123456789ab");
  e.conversation_id = Uuid::Parse("01936f0e-0000-7000-8000-000000000001");
  e.kind = "openclaw.before_tool_call";
  e.time_ms = 1700000000123;
  e.actor = "openclaw:main";
  e.attributes = Json{{"tool", "exec"}, {"a", 1}, {"nested", {{"z", true}, {"b", nullptr}}}};
  return e;
}

// DumpJson writes its own bytes for the common types; they must equal the library's dump
// (with invalid UTF-8 replaced) for every tree, or stored hashes would stop matching.
TEST(DumpJson, EqualsTheLibrarysDumpOnRandomTrees) {
  uint64_t rng = 88172645463325252ULL;
  auto next = [&](uint64_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng % n;
  };
  const std::vector<std::string> pieces = {
      "", "a", "exec", "\"", "\\", "\n", "\t", "\r", "\b", "\f", std::string(1, '\0'), "\x01",
      "\x1f", "\x7f", "/", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\xa0\x80",
      "\xc0\xaf", "\xe0\x80\xaf", "\xf4\x90\x80\x80", "\xff", "\x80", "\xc3", "\xe2\x82",
      "\xf0\x9f\x98", "\xf8\x88\x80\x80\x80", "make all", "{\"k\":1}"};
  auto str = [&] {
    std::string s;
    for (uint64_t k = next(5); k > 0; --k) s += pieces[next(pieces.size())];
    return s;
  };
  std::function<Json(int)> tree = [&](int depth) -> Json {
    switch (depth > 3 ? next(7) : next(9)) {
      case 0: return nullptr;
      case 1: return next(2) == 0;
      case 2: return static_cast<int64_t>(next(1u << 31)) - (1 << 30);
      case 3: return next(2) ? std::numeric_limits<uint64_t>::max() - next(10)
                             : static_cast<uint64_t>(next(1000));
      case 4: return static_cast<double>(next(1000000)) / 7.0 - 1000.0;
      case 5:
      case 6: return str();
      case 7: {
        Json a = Json::array();
        for (uint64_t k = next(4); k > 0; --k) a.push_back(tree(depth + 1));
        return a;
      }
      default: {
        Json o = Json::object();
        for (uint64_t k = next(5); k > 0; --k) o[str()] = tree(depth + 1);
        return o;
      }
    }
  };
  for (int i = 0; i < 20000; ++i) {
    Json j = tree(0);
    std::string want = j.dump(-1, ' ', false, Json::error_handler_t::replace);
    ASSERT_EQ(DumpJson(j), want) << i;
  }
  EXPECT_EQ(DumpJson(Json(std::numeric_limits<double>::infinity())), "null");
  EXPECT_EQ(DumpJson(Json(std::numeric_limits<int64_t>::min())), "-9223372036854775808");
}

TEST(CanonicalEventBytes, IsACompactArrayWithSortedKeys) {
  EXPECT_EQ(CanonicalEventBytes(SampleEvent()),
            "[\"clawback.event.v1\",7,\"01936f0e-1a2b-7c3d-8e4f-0123456789ab\","
            "\"01936f0e-0000-7000-8000-000000000001\",\"openclaw.before_tool_call\","
            "1700000000123,\"openclaw:main\",{\"a\":1,\"nested\":{\"b\":null,\"z\":true},"
            "\"tool\":\"exec\"}]");
}

TEST(CanonicalEventBytes, NoConversationIsNull) {
  Event e = SampleEvent();
  e.conversation_id.reset();
  EXPECT_NE(CanonicalEventBytes(e).find(",null,"), std::string::npos);
}

TEST(CanonicalEventBytes, EscapesStringsAndSurvivesInvalidUtf8) {
  Event e = SampleEvent();
  e.kind = "a\"b\\c\n";
  e.actor = std::string("bad\xff");
  std::string bytes = CanonicalEventBytes(e);
  EXPECT_NE(bytes.find("\"a\\\"b\\\\c\\n\""), std::string::npos);
  EXPECT_NE(bytes.find("bad\xef\xbf\xbd"), std::string::npos);  // U+FFFD
}

TEST(ChainHash, IsSha256OfPrevHashAndCanonicalBytes) {
  Event e = SampleEvent();
  e.attributes = Json::object();
  e.seq = 1;
  e.conversation_id.reset();
  e.kind = "k";
  e.actor = "";
  e.time_ms = 0;
  // sha256 of: [\"clawback.event.v1\",1,\"01936f0e-1a2b-7c3d-8e4f-0123456789ab\",null,\"k\",0,\"\",{}]
  // computed independently (Python hashlib).
  EXPECT_EQ(CanonicalEventBytes(e),
            "[\"clawback.event.v1\",1,\"01936f0e-1a2b-7c3d-8e4f-0123456789ab\",null,\"k\",0,\"\",{}]");
  EXPECT_EQ(ChainHash("", e), "86d3aca2dc1cf2714ce020b856cd655558e84ec01559ae605cf9b41d0e4398a6");
  std::string h1 = ChainHash("", e);
  EXPECT_EQ(h1.size(), 64u);
  EXPECT_NE(ChainHash(h1, e), h1);
  Event e2 = e;
  e2.attributes = Json{{"x", 1}};
  EXPECT_NE(ChainHash("", e2), h1);
}

TEST(Role, NamesRoundTrip) {
  for (Role r : {Role::kViewer, Role::kIngest, Role::kOperator, Role::kAdmin}) {
    EXPECT_EQ(ParseRole(RoleName(r)), r);
  }
  EXPECT_EQ(RoleName(Role::kOperator), "operator");
  EXPECT_FALSE(ParseRole("root").has_value());
}

class OpenLedgerTest : public ::testing::Test {
 protected:
  test::TempDir tmp_{"clawback-ledger-test"};
  const std::string dir_ = tmp_.str();
};

TEST_F(OpenLedgerTest, AcceptsSqliteUrlAndBarePath) {
  ManualClock clock;
  for (const std::string& url : {"sqlite:" + dir_ + "/a.db", dir_ + "/b.db",
                                 "sqlite://" + dir_ + "/c.db"}) {
    auto l = OpenLedger(url, clock);
    ASSERT_TRUE(l.ok()) << url << ": " << l.status().ToString();
    EXPECT_EQ((*l)->backend(), "sqlite");
  }
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/a.db"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/c.db"));
}

TEST_F(OpenLedgerTest, RejectsEmptyUnknownSchemeAndMissingDirectory) {
  ManualClock clock;
  EXPECT_EQ(OpenLedger("", clock).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenLedger("mysql://x/y", clock).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenLedger("sqlite:", clock).status().code(), StatusCode::kInvalidArgument);
  auto missing = OpenLedger(dir_ + "/no/such/dir/l.db", clock);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kIOError) << missing.status().ToString();
}

TEST_F(OpenLedgerTest, UnreachablePostgresIsUnavailable) {
  ManualClock clock;
  // Port 1 on loopback: nothing listens there.
  auto l = OpenLedger("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", clock);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), StatusCode::kUnavailable) << l.status().ToString();
}

TEST_F(OpenLedgerTest, UnmigratedLedgerSaysRunInit) {
  ManualClock clock;
  auto l = OpenLedger(dir_ + "/fresh.db", clock);
  ASSERT_TRUE(l.ok());
  auto v = (*l)->SchemaVersion();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 0);
  auto s = (*l)->Stats();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("clawback init"), std::string::npos);
}

// Counts conversations with `id` in another process, the sqlite3 shell, through its own
// connection, which it then closes (as `clawback trace` would): -1 on error. (Not a fork
// of this process: the child would inherit SQLite's in-memory lock bookkeeping.)
int CountInOtherProcess(const std::string& path, const Uuid& id) {
  std::string cmd = "sqlite3 '" + path + "' \"SELECT count(*) FROM conversations WHERE id = '" +
                    id.ToString() + "'\" 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[256] = {0};
  size_t n = fread(buf, 1, sizeof(buf) - 1, p);
  int rc = pclose(p);
  if (rc != 0 || n == 0) return -1;
  return std::atoi(buf);
}

// Regression (issue #4): opening a second connection used to open+close the database file,
// which dropped this process's POSIX locks on it; another process closing its connection
// then deleted the -wal and -shm files under the writer, and every later commit was
// invisible to other processes (and lost if the writer crashed).
TEST_F(OpenLedgerTest, CommitsStayVisibleToOtherProcessesAfterMoreConnectionsOpen) {
  ManualClock clock;
  const std::string path = dir_ + "/shared.db";
  auto l = OpenLedger(path, clock);
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_TRUE((*l)->Migrate().ok());
  auto add = [&](const char* title) {
    Conversation c;
    c.id = UuidV7Generator(clock).Next();
    c.source = "cli";
    c.title = title;
    WriteBatch b;
    b.Add(c);
    EXPECT_TRUE((*l)->Apply(b).ok());
    return c.id;
  };
  Uuid first = add("first");
  // Readers open more connections in this process (the server's reader pool does).
  ASSERT_TRUE((*l)->GetConversation(first).ok());
  ASSERT_TRUE((*l)->Stats().ok());
  EXPECT_EQ(CountInOtherProcess(path, first), 1);  // opens, reads and closes
  Uuid second = add("second");
  EXPECT_EQ(CountInOtherProcess(path, second), 1)
      << "a commit after another process closed its connection is not visible";
  EXPECT_TRUE(std::filesystem::exists(path + "-wal"));
}

// A fresh migrated SQLite ledger at `path` holding one conversation, for the checkpoint tests.
class FillerLedger {
 public:
  explicit FillerLedger(const std::string& path) {
    auto l = OpenLedger(path, clock_);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    if (!l.ok()) return;
    ledger_ = std::move(l).value();
    EXPECT_TRUE(ledger_->Migrate().ok());
    conversation_.id = UuidV7Generator(clock_).Next();
    conversation_.source = "test";
    WriteBatch open;
    open.Add(conversation_);
    EXPECT_TRUE(ledger_->Apply(open).ok());
  }
  bool ok() const { return ledger_ != nullptr; }
  // One commit of ten ~4 KB events (about ten WAL frames).
  Status Commit(int i) {
    static const std::string filler(4000, 'x');
    WriteBatch b;
    for (int k = 0; k < kEventsPerCommit; ++k) {
      Event e;
      e.conversation_id = conversation_.id;
      e.kind = "test.filler";
      e.time_ms = 1700000000000 + i;
      e.attributes = Json{{"filler", filler}, {"i", i}, {"k", k}};
      b.Add(std::move(e));
    }
    return ledger_->Apply(b);
  }
  static constexpr int kEventsPerCommit = 10;

 private:
  ManualClock clock_;
  std::unique_ptr<Ledger> ledger_;
  Conversation conversation_;
};

// Small checkpoint marks for one test (ledgers opened while it lives), defaults after.
class ScopedCheckpointMarks {
 public:
  ScopedCheckpointMarks(int background, int finish, int hard,
                        std::function<void()> before_pass = nullptr) {
    SetSqliteCheckpointMarksForTest(background, finish, hard, std::move(before_pass));
  }
  ~ScopedCheckpointMarks() { SetSqliteCheckpointMarksForTest(0, 0, 0); }
};

// Counts the events of the ledger at `path` from another process (the sqlite3 shell).
int CountEventsInOtherProcess(const std::string& path) {
  std::string cmd = "sqlite3 '" + path + "' \"SELECT count(*) FROM events\" 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[64] = {0};
  size_t n = fread(buf, 1, sizeof(buf) - 1, p);
  if (pclose(p) != 0 || n == 0) return -1;
  return std::atoi(buf);
}

// The SQLite ledger checkpoints on a thread of its own; under a writer that never pauses the
// thread is always a commit behind, so the log could only grow: past the finish mark a
// commit copies what the thread's last pass left (or, past the hard mark, waits for the
// thread and copies the rest). With marks of 0.5 / 4 / 16 MiB, writes ~48 MiB of events in
// back-to-back commits and expects the WAL to stay bounded, the database file to hold them,
// and another process to count every one.
TEST_F(OpenLedgerTest, WalStaysBoundedUnderContinuousWrites) {
  ScopedCheckpointMarks marks(128, 1024, 4096);
  const std::string path = dir_ + "/busy.db";
  FillerLedger l(path);
  ASSERT_TRUE(l.ok());
  uintmax_t max_wal = 0;
  constexpr int kCommits = 1200;  // ~48 MiB of attributes
  for (int i = 0; i < kCommits; ++i) {
    ASSERT_TRUE(l.Commit(i).ok());
    std::error_code ec;
    uintmax_t wal = std::filesystem::file_size(path + "-wal", ec);
    if (!ec) max_wal = std::max(max_wal, wal);
  }
  EXPECT_GT(max_wal, 0u);
  EXPECT_LT(max_wal, (16u << 20) + (1u << 20)) << "the WAL grew past the hard mark";
  EXPECT_GT(std::filesystem::file_size(path), 24u << 20) << "pages never reached the database";
  EXPECT_EQ(CountEventsInOtherProcess(path), kCommits * FillerLedger::kEventsPerCommit);
}

// A commit never waits for a background pass (one that did made every request queued behind
// it late while the pass's fsyncs took tens of ms after a burst): with the background
// thread held in its first pass for 2 s, commits past the finish mark (short of the hard
// one) go on at full speed, and the WAL stays bounded once the pass ends.
TEST_F(OpenLedgerTest, CommitsDoNotWaitForABackgroundPass) {
  std::atomic<int> passes{0};
  ScopedCheckpointMarks marks(64, 256, 4096, [&passes] {
    if (passes.fetch_add(1) == 0) std::this_thread::sleep_for(std::chrono::seconds(2));
  });
  const std::string path = dir_ + "/held.db";
  FillerLedger l(path);
  ASSERT_TRUE(l.ok());
  auto t0 = std::chrono::steady_clock::now();
  double slowest_ms = 0;
  int i = 0;
  // ~2,000 frames: past the finish mark (256), short of the hard one (4,096), while the
  // first pass (woken at 64) sleeps.
  for (; i < 100; ++i) {
    auto c0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(l.Commit(i).ok());
    slowest_ms = std::max(
        slowest_ms,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - c0).count());
  }
  double total_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GE(passes.load(), 1) << "the background thread never started a pass";
  EXPECT_LT(total_ms, 1500) << "commits waited for the background pass (slowest "
                            << slowest_ms << " ms)";
  // After the held pass: ~4,000 frames more, past the hard mark if the log never restarted.
  std::this_thread::sleep_for(std::chrono::milliseconds(2100) -
                              (std::chrono::steady_clock::now() - t0));
  uintmax_t max_wal = 0;
  for (int k = 0; k < 200; ++k, ++i) {
    ASSERT_TRUE(l.Commit(i).ok());
    std::error_code ec;
    max_wal = std::max(max_wal, std::filesystem::file_size(path + "-wal", ec));
  }
  EXPECT_GE(passes.load(), 2);
  EXPECT_LT(max_wal, (16u << 20) + (1u << 20)) << "the WAL grew past the hard mark";
  EXPECT_EQ(CountEventsInOtherProcess(path), i * FillerLedger::kEventsPerCommit);
}

// Between the marks (~4 MiB and ~64 MiB of WAL) only the background thread copies pages into
// the database file: after ~8 MiB of commits the file must grow without another commit.
TEST_F(OpenLedgerTest, BackgroundThreadCheckpointsBetweenTheMarks) {
  const std::string path = dir_ + "/bg.db";
  FillerLedger l(path);
  ASSERT_TRUE(l.ok());
  const uintmax_t before = std::filesystem::file_size(path);
  for (int i = 0; i < 100; ++i) {  // ~2,000 frames: past the background mark, short of the inline one
    ASSERT_TRUE(l.Commit(i).ok());
  }
  uintmax_t size = before;
  for (int i = 0; i < 100 && size < before + (2u << 20); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    size = std::filesystem::file_size(path);
  }
  EXPECT_GE(size, before + (2u << 20)) << "no checkpoint copied the WAL into the database file";
}

}  // namespace
}  // namespace clawback::ledger
