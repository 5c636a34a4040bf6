#include "timemachine/health.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "common/testing/temp_dir.h"
#include "timemachine/env_check.h"

namespace clawback::timemachine {
namespace {

// A service that is unhealthy for its first `failures` requests, then healthy.
class Service : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
      if (hits_++ < failures_) {
        res.status = 503;
        res.set_content("starting", "text/plain");
        return;
      }
      res.set_content("ok", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }
  HealthCheck Http() const {
    HealthCheck c;
    c.http = "http://127.0.0.1:" + std::to_string(port_) + "/health";
    c.interval_ms = 50;
    c.timeout_ms = 3000;
    return c;
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> hits_{0};
  int failures_ = 0;
};

TEST_F(Service, RetriedUntilItPasses) {
  failures_ = 3;
  HealthResult r = RunHealthCheck(Http());
  EXPECT_TRUE(r.passed) << r.detail;
  EXPECT_EQ(r.attempts, 4);
  EXPECT_EQ(r.detail, "HTTP 200: ok");
}

TEST_F(Service, PassesInARowAreCounted) {
  failures_ = 1;
  HealthCheck c = Http();
  c.passes = 3;
  HealthResult r = RunHealthCheck(c);
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(r.attempts, 4);  // one failure, then three passes
}

TEST_F(Service, GivesUpAtItsTimeoutSayingWhatItSaw) {
  failures_ = 1'000'000;
  HealthCheck c = Http();
  c.timeout_ms = 400;
  const auto start = std::chrono::steady_clock::now();
  HealthResult r = RunHealthCheck(c);
  EXPECT_FALSE(r.passed);
  EXPECT_GE(r.attempts, 3);
  EXPECT_EQ(r.detail, "HTTP 503: starting");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(Service, AnotherExpectedStatus) {
  HealthCheck c = Http();
  c.expect = 204;
  c.timeout_ms = 200;
  HealthResult r = RunHealthCheck(c);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.detail, "HTTP 200: ok");
}

TEST(HealthCommand, ExitZeroPassesAndOutputIsTheDetail) {
  test::TempDir dir;
  HealthCheck c;
  // Healthy from the third try on: a counter in a file.
  c.command = "n=$(cat " + dir.File("n") + " 2>/dev/null || echo 0); n=$((n+1)); echo $n > " +
              dir.File("n") + "; echo try $n; [ $n -ge 3 ]";
  c.interval_ms = 20;
  c.timeout_ms = 5000;
  HealthResult r = RunHealthCheck(c);
  EXPECT_TRUE(r.passed) << r.detail;
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(r.detail, "exit 0: try 3");
}

TEST(HealthCommand, AHangingCommandIsStoppedAtTheTimeout) {
  HealthCheck c;
  c.command = "sleep 30";
  c.timeout_ms = 300;
  const auto start = std::chrono::steady_clock::now();
  HealthResult r = RunHealthCheck(c);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_NE(r.detail.find("timed out"), std::string::npos) << r.detail;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST(HealthHttp, NothingListeningIsAFailureNotAnError) {
  HealthCheck c;
  c.http = "http://127.0.0.1:1/health";
  c.timeout_ms = 200;
  c.interval_ms = 50;
  HealthResult r = RunHealthCheck(c);
  EXPECT_FALSE(r.passed);
  EXPECT_NE(r.detail.find("127.0.0.1:1"), std::string::npos) << r.detail;
}

TEST(EnvCheck, ReportsEveryItemAndChangesNothing) {
  test::TempDir dir;
  Environment e;
  e.name = "t";
  e.paths = {dir.str(), dir.str() + "/missing"};
  e.git = {dir.str()};
  e.dumps = {{"db", "sh -c 'echo dump'", "clawback-no-such-loader -d x"}};
  e.deploy = "touch " + dir.File("deployed");
  HealthCheck h;
  h.command = "true";
  e.health = {h};
  EnvCheck c = CheckEnvironment(e);
  ASSERT_EQ(c.items.size(), 7u);
  EXPECT_TRUE(c.items[0].ok);
  EXPECT_EQ(c.items[0].detail, "directory");
  EXPECT_FALSE(c.items[1].ok);
  EXPECT_EQ(c.items[1].detail, "No such file or directory");
  EXPECT_FALSE(c.items[2].ok);  // not a git work tree
  EXPECT_TRUE(c.items[3].ok) << c.items[3].detail;
  EXPECT_EQ(c.items[3].what, "dump db: sh");
  EXPECT_FALSE(c.items[4].ok);
  EXPECT_EQ(c.items[4].what, "load db: clawback-no-such-loader");
  EXPECT_TRUE(c.items[5].ok);  // deploy: touch is there, and was not run
  EXPECT_FALSE(std::filesystem::exists(dir.File("deployed")));
  EXPECT_TRUE(c.items[6].ok);
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.ToJson()["checks"].size(), 7u);
}

}  // namespace
}  // namespace clawback::timemachine
