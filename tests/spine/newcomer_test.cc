// Issue 12: what a new user hits, through the real binary as a new user types it: unknown
// commands, a server on an uninitialised data dir, a second server on a port in use, a typo
// in config.toml, a wrong repository password, init's password warning, and API tokens
// listed and revoked under a running server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/spine/process.h"

namespace clawback::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

class NewcomerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("CLAWBACK_BINARY");
    ASSERT_NE(bin, nullptr) << "CLAWBACK_BINARY is not set (run through ctest)";
    bin_ = bin;
    data_ = tmp_.path() / "data";
    env_ = {{"PATH", std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"},
            {"HOME", tmp_.path().string()},
            {"CLAWBACK_HOME", data_.string()},
            {"LC_ALL", "C"}};
  }
  ProcResult Cb(std::vector<std::string> args, std::map<std::string, std::string> extra = {}) {
    args.insert(args.begin(), bin_);
    auto env = env_;
    for (auto& [k, v] : extra) env[k] = v;
    return RunProc(args, env, tmp_.path().string());
  }
  void Init() {
    auto r = Cb({"init"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Starts `serve` on a free port; returns its URL.
  std::string Serve(std::unique_ptr<Proc>* server) {
    *server = std::make_unique<Proc>(std::vector<std::string>{bin_, "serve", "--listen", "127.0.0.1:0"},
                                     env_, tmp_.path().string());
    EXPECT_TRUE((*server)->WaitForOutput(" (ledger")) << "server did not start";
    const std::string& out = (*server)->Output();
    size_t at = out.find("http://");
    if (at == std::string::npos) return "";
    return out.substr(at, out.find(' ', at) - at);
  }

  TempDir tmp_;
  std::string bin_;
  fs::path data_;
  std::map<std::string, std::string> env_;
};

TEST_F(NewcomerTest, AnUnknownCommandIsNamedEvenBeforeHelp) {
  auto r = Cb({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown command \"frobnicate\""));
  EXPECT_THAT(r.err, Not(HasSubstr("A subcommand is required")));
  auto help = Cb({"frobnicate", "--help"});
  EXPECT_EQ(help.exit_code, 2);
  EXPECT_EQ(help.out, "");
  auto typo = Cb({"snapshto", "/etc"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_THAT(typo.err, HasSubstr("did you mean snapshot?"));
  auto habit = Cb({"backup", "/etc"});  // restic's word
  EXPECT_EQ(habit.exit_code, 2);
  EXPECT_THAT(habit.err, HasSubstr("clawback's word for it is snapshot"));
  // Usage errors name the command they are about.
  auto usage = Cb({"restore", "latest"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_THAT(usage.err, HasSubstr("clawback restore: --target is required"));
  EXPECT_THAT(usage.err, HasSubstr("clawback restore --help"));
  auto group = Cb({"token"});
  EXPECT_EQ(group.exit_code, 2);
  EXPECT_THAT(group.err, HasSubstr("a subcommand is required: create list revoke"));
  auto bare = Cb({});
  EXPECT_EQ(bare.exit_code, 2);
  EXPECT_THAT(bare.out, HasSubstr("Subcommands:"));
  auto version = Cb({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, HasSubstr("clawback "));
  // The real commands still work, --help included.
  EXPECT_EQ(Cb({"snapshot", "--help"}).exit_code, 0);
  EXPECT_EQ(Cb({"version"}).exit_code, 0);
}

TEST_F(NewcomerTest, ServeOnAnUninitialisedDataDirSaysRunInit) {
  auto r = Cb({"serve", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_THAT(r.err, HasSubstr("run `clawback init"));
  EXPECT_FALSE(fs::exists(data_ / "ledger.db"));
}

TEST_F(NewcomerTest, InitWarnsAboutThePasswordOnce) {
  auto r = Cb({"init"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string all = r.out + r.err;
  size_t n = 0;
  for (size_t at = all.find("somewhere safe"); at != std::string::npos; at = all.find("somewhere safe", at + 1))
    ++n;
  EXPECT_EQ(n, 1u) << all;
  EXPECT_THAT(all, HasSubstr("Losing " + (data_ / "repo-password").string() + " loses the backups"));
}

TEST_F(NewcomerTest, AWrongRepositoryPasswordNamesWhereItCameFrom) {
  Init();
  fs::path wrong = tmp_.path() / "wrong-pw";
  WriteFile(wrong, "not the password\n");
  auto flag = Cb({"snapshots", "--password-file", wrong.string()});
  EXPECT_EQ(flag.exit_code, 12);
  EXPECT_THAT(flag.err, HasSubstr("--password-file " + wrong.string()));
  auto env = Cb({"snapshots"}, {{"CLAWBACK_PASSWORD_FILE", wrong.string()}});
  EXPECT_EQ(env.exit_code, 12);
  EXPECT_THAT(env.err, HasSubstr("$CLAWBACK_PASSWORD_FILE (" + wrong.string() + ")"));
  EXPECT_EQ(Cb({"snapshots"}).exit_code, 0);
}

TEST_F(NewcomerTest, AConfigTypoStopsServeNamingTheKey) {
  Init();
  std::string config = ReadFile(data_ / "config.toml");
  size_t at = config.find("url = \"\"");  // [ledger]'s
  ASSERT_NE(at, std::string::npos);
  config.replace(at, 3, "ulr");
  WriteFile(data_ / "config.toml", config);
  auto r = Cb({"serve", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr((data_ / "config.toml").string()));
  EXPECT_THAT(r.err, HasSubstr("ledger.ulr: unknown key (did you mean url?)"));
}

TEST_F(NewcomerTest, ASecondServerOnAPortInUseExitsNamingTheAddress) {
  Init();
  std::unique_ptr<Proc> first;
  std::string url = Serve(&first);
  ASSERT_FALSE(url.empty());
  std::string addr = url.substr(std::string("http://").size());
  auto second = Cb({"serve", "--listen", addr});
  EXPECT_EQ(second.exit_code, 7) << second.err;
  EXPECT_THAT(second.err, HasSubstr("cannot listen on " + addr));
  EXPECT_THAT(second.err, HasSubstr("already in use"));
  httplib::Client http(url);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(http.Get("/healthz")->status, 200);
  ::kill(first->pid(), SIGTERM);
  EXPECT_EQ(first->Wait().exit_code, 0);
}

TEST_F(NewcomerTest, TokensAreListedAndARevokedOneIsRefusedWithinFiveSeconds) {
  Init();
  auto admin = Cb({"token", "create", "--role", "admin", "--name", "me"});
  ASSERT_EQ(admin.exit_code, 0) << admin.err;
  auto gw = Cb({"token", "create", "--role", "ingest", "--name", "gateway"});
  ASSERT_EQ(gw.exit_code, 0) << gw.err;
  std::string token = Trim(gw.out);

  auto list = Cb({"token", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("LAST USED"));
  EXPECT_THAT(list.out, HasSubstr("gateway"));
  EXPECT_THAT(list.out, HasSubstr("ingest"));
  EXPECT_THAT(list.out, HasSubstr("never"));
  EXPECT_THAT(list.out, Not(HasSubstr(token)));
  EXPECT_THAT(list.out, Not(HasSubstr(Trim(admin.out))));

  std::unique_ptr<Proc> server;
  std::string url = Serve(&server);
  ASSERT_FALSE(url.empty());
  httplib::Client http(url);
  httplib::Headers auth = {{"Authorization", "Bearer " + token}};
  ASSERT_EQ(http.Get("/v1/conversations", auth)->status, 200);

  auto json = Cb({"--json", "token", "list"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  Json tokens = Json::parse(json.out);
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[1]["name"], "gateway");
  EXPECT_EQ(tokens[1]["role"], "ingest");
  EXPECT_TRUE(tokens[1]["last_used"].is_string()) << tokens.dump();  // written by the server
  EXPECT_TRUE(tokens[0]["last_used"].is_null());
  EXPECT_EQ(tokens[1]["revoked"], false);
  EXPECT_EQ(json.out.find(token), std::string::npos);

  auto revoke = Cb({"token", "revoke", "gateway"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  auto revoked_at = std::chrono::steady_clock::now();
  int status = 0;
  while (std::chrono::steady_clock::now() - revoked_at < std::chrono::seconds(7)) {
    status = http.Get("/v1/conversations", auth)->status;
    if (status == 401) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, 401);
  EXPECT_LE(std::chrono::steady_clock::now() - revoked_at, std::chrono::milliseconds(5500));

  std::string id = tokens[1]["id"];
  auto again = Cb({"token", "revoke", id});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.out, HasSubstr("already revoked"));
  EXPECT_EQ(Cb({"token", "revoke", "nobody"}).exit_code, 3);
  EXPECT_THAT(Cb({"token", "list"}).out, HasSubstr("revoked"));
  ::kill(server->pid(), SIGTERM);
  EXPECT_EQ(server->Wait().exit_code, 0);
}

}  // namespace
}  // namespace clawback::testing
