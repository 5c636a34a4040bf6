// The spine's CLI and git integration, driven through the real binary as a user would:
// init → token create → conversation start/record/list/show/end → exec (exit codes,
// environment, signals) → git hooks (trailer, commit recording, chaining, core.hooksPath,
// clawback unreachable) → trace.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "tests/spine/process.h"

namespace clawback::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Json = nlohmann::json;

class SpineCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("CLAWBACK_BINARY");
    ASSERT_NE(bin, nullptr) << "CLAWBACK_BINARY is not set (run through ctest)";
    bin_ = bin;
    ASSERT_TRUE(fs::exists(bin_)) << bin_;
    data_ = tmp_.path() / "data";
    home_ = tmp_.path() / "home";
    fs::create_directories(home_);
    env_ = {{"PATH", std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"},
            {"HOME", home_.string()},
            {"CLAWBACK_HOME", data_.string()},
            {"GIT_CONFIG_NOSYSTEM", "1"},
            {"GIT_AUTHOR_NAME", "Test Agent"},
            {"GIT_AUTHOR_EMAIL", "agent@example.com"},
            {"GIT_COMMITTER_NAME", "Test Agent"},
            {"GIT_COMMITTER_EMAIL", "agent@example.com"},
            {"LC_ALL", "C"}};
  }

  ProcResult Cb(std::vector<std::string> args, const std::string& cwd = "",
                std::map<std::string, std::string> extra = {}) {
    args.insert(args.begin(), bin_);
    auto env = env_;
    for (auto& [k, v] : extra) env[k] = v;
    return RunProc(args, env, cwd);
  }
  ProcResult Sh(const std::string& script, const std::string& cwd,
                std::map<std::string, std::string> extra = {}) {
    auto env = env_;
    for (auto& [k, v] : extra) env[k] = v;
    return RunProc({"sh", "-c", script}, env, cwd);
  }

  void Init() {
    auto r = Cb({"init"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string Start(const std::string& title) {
    auto r = Cb({"conversation", "start", "--title", title});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Trim(r.out);
  }
  Json TraceJson(const std::string& id) {
    auto r = Cb({"trace", id, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Json::parse(r.out, nullptr, false);
  }
  fs::path MakeRepo(const std::string& name) {
    fs::path repo = tmp_.path() / name;
    fs::create_directories(repo);
    auto r = Sh("git init -q -b main . && echo one > a.txt && git add a.txt && "
                "git commit -q -m initial",
                repo.string());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return repo;
  }

  TempDir tmp_;
  std::string bin_;
  fs::path data_, home_;
  std::map<std::string, std::string> env_;
};

TEST_F(SpineCliTest, InitCreatesDataDirOnceAndRefusesToOverwrite) {
  auto r = Cb({"init", "--repo", "backups", "--password-file", "pw"}, tmp_.path().string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Next steps"));
  EXPECT_THAT(r.out, HasSubstr("token create"));
  struct stat st;
  ASSERT_EQ(::stat(data_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  std::string config = ReadFile(data_ / "config.toml");
  EXPECT_THAT(config, HasSubstr("url = \"" + (tmp_.path() / "backups").string() + "\""));
  EXPECT_THAT(config, HasSubstr("password_file = \"" + (tmp_.path() / "pw").string() + "\""));
  EXPECT_THAT(config, HasSubstr("# "));  // commented
  EXPECT_TRUE(fs::exists(data_ / "ledger.db"));
  ASSERT_EQ(::stat((tmp_.path() / "pw").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(Trim(ReadFile(tmp_.path() / "pw")).size(), 64u);

  auto again = Cb({"init"});
  EXPECT_EQ(again.exit_code, 4);
  EXPECT_THAT(again.err, HasSubstr("exists"));
  EXPECT_EQ(ReadFile(data_ / "config.toml"), config);
}

TEST_F(SpineCliTest, CommandsOnAnUninitialisedDataDirSaySo) {
  auto r = Cb({"conversation", "start"});
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_THAT(r.err, HasSubstr("clawback init"));
}

TEST_F(SpineCliTest, TokenCreatePrintsOnlyTheTokenOnce) {
  Init();
  auto r = Cb({"token", "create", "--role", "admin", "--name", "me"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string token = Trim(r.out);
  EXPECT_EQ(token.rfind("cbk_", 0), 0u) << token;
  EXPECT_EQ(token.find('\n'), std::string::npos);
  auto second = Cb({"token", "create", "--role", "ingest"});
  EXPECT_NE(Trim(second.out), token);
  // The token is not stored in clear anywhere in the data dir.
  auto grep = RunProc({"grep", "-r", "-l", token, data_.string()}, env_);
  EXPECT_NE(grep.exit_code, 0) << grep.out;
  auto bad = Cb({"token", "create", "--role", "root"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("viewer"));
}

TEST_F(SpineCliTest, ConversationLifecycle) {
  Init();
  auto r = Cb({"conversation", "start", "--title", "upgrade nginx", "--source", "cli",
               "--external-id", "ticket=OPS-7"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string id = Trim(r.out);
  ASSERT_EQ(id.size(), 36u) << r.out;
  EXPECT_EQ(id[14], '7');  // UUIDv7

  auto rec = Cb({"record", "file_change", "--conversation", id, "--attr", "path=/etc/nginx.conf",
                 "--attr", "change=modified", "--attr", "lines:=12"});
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  EXPECT_EQ(Trim(rec.out).size(), 36u);
  auto note = Cb({"record", "note", "-c", id, "-a", "text=hello world"});
  ASSERT_EQ(note.exit_code, 0) << note.err;

  auto show = Cb({"conversation", "show", id, "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  Json c = Json::parse(show.out);
  EXPECT_EQ(c["title"], "upgrade nginx");
  EXPECT_EQ(c["status"], "active");
  EXPECT_EQ(c["external_ids"][0]["kind"], "ticket");
  EXPECT_EQ(c["external_ids"][0]["value"], "OPS-7");

  auto list = Cb({"conversation", "list", "--since", "1h", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr(id));
  auto text_list = Cb({"conversation", "list"});
  EXPECT_THAT(text_list.out, HasSubstr("upgrade nginx"));
  auto future = Cb({"conversation", "list", "--since", "2999-01-01", "--json"});
  EXPECT_EQ(Json::parse(future.out)["conversations"].size(), 0u);

  ASSERT_EQ(Cb({"conversation", "end", id, "--status", "failed"}).exit_code, 0);
  c = Json::parse(Cb({"conversation", "show", id, "--json"}).out);
  EXPECT_EQ(c["status"], "failed");
  EXPECT_FALSE(c["ended_at"].is_null());
  auto by_status = Cb({"conversation", "list", "--status", "failed", "--json"});
  EXPECT_THAT(by_status.out, HasSubstr(id));

  Json t = TraceJson(id);
  ASSERT_EQ(t["file_changes"].size(), 1u);
  EXPECT_EQ(t["file_changes"][0]["path"], "/etc/nginx.conf");
  bool saw_note = false;
  for (const auto& e : t["events"]) {
    if (e["kind"] == "note") {
      saw_note = true;
      EXPECT_EQ(e["attributes"]["text"], "hello world");
    }
    if (e["kind"] == "file_change") {
      EXPECT_EQ(e["attributes"]["lines"], 12);
    }
  }
  EXPECT_TRUE(saw_note);
  auto tree = Cb({"trace", id});
  EXPECT_THAT(tree.out, HasSubstr("file modified  /etc/nginx.conf"));

  // Errors: unknown id 3, malformed id 2, bad attr 2.
  EXPECT_EQ(Cb({"conversation", "show", "0190f3a2-7c1e-7d41-9a2b-1c2d3e4f5a6b"}).exit_code, 3);
  EXPECT_EQ(Cb({"trace", "0190f3a2-7c1e-7d41-9a2b-1c2d3e4f5a6b"}).exit_code, 3);
  EXPECT_EQ(Cb({"conversation", "show", "nope"}).exit_code, 2);
  EXPECT_EQ(Cb({"record", "note", "-c", id, "-a", "novalue"}).exit_code, 2);
  EXPECT_EQ(Cb({"record", "note", "-c", "0190f3a2-7c1e-7d41-9a2b-1c2d3e4f5a6b"}).exit_code, 3);
}

TEST_F(SpineCliTest, ExecPropagatesExitCodeAndEnvironmentAndRecordsTheCommand) {
  Init();
  auto r = Cb({"exec", "--", "sh", "-c",
               "echo \"id=$CLAWBACK_CONVERSATION_ID\"; echo \"tp=$TRACEPARENT\"; "
               "echo \"otel=$OTEL_RESOURCE_ATTRIBUTES\"; exit 7"},
              tmp_.path().string(), {{"OTEL_RESOURCE_ATTRIBUTES", "service.name=web"}});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  // The new conversation's id is on stderr; the child saw it.
  auto pos = r.err.find("conversation ");
  ASSERT_NE(pos, std::string::npos) << r.err;
  std::string id = r.err.substr(pos + 13, 36);
  EXPECT_THAT(r.out, HasSubstr("id=" + id));
  std::string hex = id;
  hex.erase(std::remove(hex.begin(), hex.end(), '-'), hex.end());
  EXPECT_THAT(r.out, HasSubstr("tp=00-" + hex + "-"));
  EXPECT_THAT(r.out, HasSubstr("otel=service.name=web,clawback.conversation.id=" + id));

  Json t = TraceJson(id);
  ASSERT_EQ(t["commands"].size(), 1u) << t.dump();
  const Json& cmd = t["commands"][0];
  EXPECT_EQ(cmd["exit_code"], 7);
  EXPECT_EQ(cmd["argv"][0], "sh");
  EXPECT_EQ(cmd["cwd"], tmp_.path().string());
  EXPECT_TRUE(cmd["duration_ms"].is_number());
  EXPECT_EQ(t["conversation"]["status"], "failed");
  EXPECT_EQ(t["conversation"]["source"], "exec");

  // Into an existing conversation, exit 0; a missing program is 127, still recorded.
  std::string conv = Start("ops");
  EXPECT_EQ(Cb({"exec", "--conversation", conv, "--", "true"}).exit_code, 0);
  auto missing = Cb({"exec", "-c", conv, "--", "no-such-program-xyz"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_THAT(missing.err, HasSubstr("no-such-program-xyz"));
  t = TraceJson(conv);
  ASSERT_EQ(t["commands"].size(), 2u);
  EXPECT_EQ(t["commands"][1]["exit_code"], 127);
  EXPECT_EQ(t["conversation"]["status"], "active");  // not ours to end
  EXPECT_THAT(Cb({"trace", conv}).out, HasSubstr("command  true  exit 0"));

  // A conversation that does not exist: nothing runs.
  auto none = Cb({"exec", "-c", "0190f3a2-7c1e-7d41-9a2b-1c2d3e4f5a6b", "--", "sh", "-c",
                  "touch ran"},
                 tmp_.path().string());
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_FALSE(fs::exists(tmp_.path() / "ran"));
}

TEST_F(SpineCliTest, ExecForwardsSignalsToTheCommand) {
  Init();
  std::string conv = Start("signals");
  auto env = env_;
  Proc p({bin_, "exec", "-c", conv, "--", "sh", "-c",
          "trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.05; done"},
         env, tmp_.path().string());
  ASSERT_TRUE(p.WaitForOutput("ready"));
  ::kill(p.pid(), SIGTERM);
  auto r = p.Wait();
  EXPECT_EQ(r.exit_code, 42) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("got-term"));
  Json t = TraceJson(conv);
  ASSERT_EQ(t["commands"].size(), 1u);
  EXPECT_EQ(t["commands"][0]["exit_code"], 42);
}

TEST_F(SpineCliTest, GitHooksAddTheTrailerAndRecordTheCommit) {
  Init();
  fs::path repo = MakeRepo("repo");
  auto inst = Cb({"git", "install-hooks", repo.string()});
  ASSERT_EQ(inst.exit_code, 0) << inst.err;
  for (const char* h : {"prepare-commit-msg", "commit-msg", "post-commit"}) {
    fs::path hook = repo / ".git/hooks" / h;
    ASSERT_TRUE(fs::exists(hook)) << h;
    EXPECT_TRUE((fs::status(hook).permissions() & fs::perms::owner_exec) != fs::perms::none);
  }
  std::string before = ReadFile(repo / ".git/hooks/post-commit");
  auto again = Cb({"git", "install-hooks", repo.string(), "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Json::parse(again.out)["hooks"][0]["action"], "updated");
  EXPECT_EQ(ReadFile(repo / ".git/hooks/post-commit"), before);
  EXPECT_FALSE(fs::exists(repo / ".git/hooks/post-commit.pre-clawback"));

  std::string conv = Start("change config");
  WriteFile(repo / "b.txt", "two\n");
  ASSERT_EQ(Sh("git add b.txt", repo.string()).exit_code, 0);
  auto commit = Cb({"exec", "-c", conv, "--", "git", "commit", "-q", "-m", "add b"},
                   repo.string());
  ASSERT_EQ(commit.exit_code, 0) << commit.err;
  auto msg = Sh("git log -1 --format=%B", repo.string());
  EXPECT_THAT(msg.out, HasSubstr("add b\n\nClawback-Conversation: " + conv));
  // Amending in the same conversation keeps one trailer.
  auto amend = Cb({"exec", "-c", conv, "--", "git", "commit", "-q", "--amend", "--no-edit"},
                  repo.string());
  ASSERT_EQ(amend.exit_code, 0) << amend.err;
  msg = Sh("git log -1 --format=%B", repo.string());
  EXPECT_EQ(msg.out.find("Clawback-Conversation"), msg.out.rfind("Clawback-Conversation"))
      << msg.out;
  std::string sha = Trim(Sh("git rev-parse HEAD", repo.string()).out);

  Json t = TraceJson(conv);
  ASSERT_GE(t["commits"].size(), 1u) << t.dump();
  const Json* found = nullptr;
  for (const auto& c : t["commits"]) {
    if (c["sha"] == sha) found = &c;
  }
  ASSERT_NE(found, nullptr) << t.dump();
  EXPECT_EQ((*found)["trailer"], conv);
  EXPECT_EQ((*found)["branch"], "main");
  EXPECT_EQ((*found)["files"], Json::array({"b.txt"}));
  EXPECT_THAT((*found)["message"].get<std::string>(), HasSubstr("add b"));
  ASSERT_EQ(t["commands"].size(), 2u);
  EXPECT_EQ(t["commands"][0]["argv"][1], "commit");
  EXPECT_EQ(t["commands"][0]["exit_code"], 0);
  auto tree = Cb({"trace", conv});
  EXPECT_THAT(tree.out, HasSubstr("commit " + sha.substr(0, 12) + " on main  \"add b\""));
  EXPECT_THAT(tree.out, HasSubstr("Clawback-Conversation: " + conv));

  // Without a conversation the hooks add nothing and record nothing.
  WriteFile(repo / "c.txt", "three\n");
  auto plain = Sh("git add c.txt && git commit -q -m 'by hand'", repo.string());
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(Sh("git log -1 --format=%B", repo.string()).out.find("Clawback"), std::string::npos);
}

TEST_F(SpineCliTest, ExistingHooksAreChainedAndCoreHooksPathRespected) {
  Init();
  fs::path repo = MakeRepo("chained");
  ASSERT_EQ(Sh("git config core.hooksPath .githooks && mkdir .githooks", repo.string()).exit_code, 0);
  fs::path hooks = repo / ".githooks";
  WriteFile(hooks / "prepare-commit-msg",
            "#!/bin/sh\necho \"user-hook $2\" >> \"$(git rev-parse --show-toplevel)/hook.log\"\n"
            "echo 'User-Line: kept' >> \"$1\"\n");
  WriteFile(hooks / "post-commit",
            "#!/bin/sh\necho post >> \"$(git rev-parse --show-toplevel)/hook.log\"\n");
  fs::permissions(hooks / "prepare-commit-msg", fs::perms::owner_all, fs::perm_options::add);
  fs::permissions(hooks / "post-commit", fs::perms::owner_all, fs::perm_options::add);

  auto inst = Cb({"git", "install-hooks"}, repo.string());
  ASSERT_EQ(inst.exit_code, 0) << inst.err;
  EXPECT_THAT(inst.out, HasSubstr("chained"));
  EXPECT_TRUE(fs::exists(hooks / "prepare-commit-msg.pre-clawback"));
  EXPECT_TRUE(fs::exists(hooks / "post-commit.pre-clawback"));
  EXPECT_FALSE(fs::exists(repo / ".git/hooks/post-commit"));
  // Re-running changes nothing: the user's hooks are not chained twice.
  ASSERT_EQ(Cb({"git", "install-hooks"}, repo.string()).exit_code, 0);
  EXPECT_THAT(ReadFile(hooks / "prepare-commit-msg.pre-clawback"), HasSubstr("user-hook"));

  std::string conv = Start("chained");
  WriteFile(repo / "d.txt", "four\n");
  auto r = Cb({"exec", "-c", conv, "--", "sh", "-c", "git add d.txt && git commit -q -m 'add d'"},
              repo.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string log = ReadFile(repo / "hook.log");
  EXPECT_THAT(log, HasSubstr("user-hook message"));
  EXPECT_THAT(log, HasSubstr("post"));
  auto msg = Sh("git log -1 --format=%B", repo.string());
  EXPECT_THAT(msg.out, HasSubstr("User-Line: kept"));
  EXPECT_THAT(msg.out, HasSubstr("Clawback-Conversation: " + conv));
  EXPECT_EQ(TraceJson(conv)["commits"].size(), 1u);

  // A failing user hook still stops the commit, as it did before clawback.
  WriteFile(hooks / "prepare-commit-msg.pre-clawback", "#!/bin/sh\nexit 3\n");
  WriteFile(repo / "e.txt", "five\n");
  auto refused = Sh("git add e.txt && git commit -q -m 'add e'", repo.string(),
                    {{"CLAWBACK_CONVERSATION_ID", conv}});
  EXPECT_NE(refused.exit_code, 0);
}

TEST_F(SpineCliTest, HooksNeverFailACommitWhenClawbackIsUnreachable) {
  Init();
  fs::path repo = MakeRepo("down");
  ASSERT_EQ(Cb({"git", "install-hooks", repo.string()}).exit_code, 0);
  const std::string conv = "0190f3a2-7c1e-7d41-9a2b-1c2d3e4f5a6b";
  // A server that is not there (a closed loopback port).
  WriteFile(repo / "f.txt", "six\n");
  auto r = Sh("git add f.txt && git commit -q -m 'server down'", repo.string(),
              {{"CLAWBACK_CONVERSATION_ID", conv}, {"CLAWBACK_SERVER", "http://127.0.0.1:9"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("clawback"));
  EXPECT_THAT(Sh("git log -1 --format=%B", repo.string()).out,
              HasSubstr("Clawback-Conversation: " + conv));
  // A data dir that was never initialised, and a binary that is gone.
  WriteFile(repo / "g.txt", "seven\n");
  r = Sh("git add g.txt && git commit -q -m 'no data dir'", repo.string(),
         {{"CLAWBACK_CONVERSATION_ID", conv},
          {"CLAWBACK_HOME", (tmp_.path() / "nowhere").string()}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  WriteFile(repo / "h.txt", "eight\n");
  r = Sh("git add h.txt && git commit -q -m 'no binary'", repo.string(),
         {{"CLAWBACK_CONVERSATION_ID", conv}, {"CLAWBACK_BIN", "/nonexistent/clawback"},
          {"PATH", "/usr/bin:/bin"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Trim(Sh("git rev-list --count HEAD", repo.string()).out), "4");
}

}  // namespace
}  // namespace clawback::testing
