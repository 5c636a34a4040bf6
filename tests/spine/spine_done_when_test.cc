// Issue #2's "Done when", as a new user would try it: init; token create --role admin;
// serve on a free port; OpenClaw session_start, before/after_tool_call for an exec call,
// session_end for agent:main:main; `clawback exec -- git commit …` in a repo with the hooks
// installed; POST /v1/deployments of that commit; then `clawback trace <id> --json` and
// GET /v1/conversations/<id>/trace both show the tool call (toolCallId), the command and
// its exit code, the commit with its trailer and the deployment. Then one `events` row is
// tampered with and `clawback ledger verify` names it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "tests/spine/process.h"

namespace clawback::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Json = nlohmann::json;

TEST(DoneWhen, OpenClawSessionExecCommitDeploymentTraceAndTamperedLedger) {
  const char* bin_env = std::getenv("CLAWBACK_BINARY");
  ASSERT_NE(bin_env, nullptr);
  const std::string bin = bin_env;
  TempDir tmp;
  fs::path data = tmp.path() / "data", home = tmp.path() / "home", repo = tmp.path() / "repo";
  fs::create_directories(home);
  std::map<std::string, std::string> env = {
      {"PATH", std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"},
      {"HOME", home.string()},
      {"CLAWBACK_HOME", data.string()},
      {"GIT_CONFIG_NOSYSTEM", "1"},
      {"GIT_AUTHOR_NAME", "Agent"},
      {"GIT_AUTHOR_EMAIL", "agent@example.com"},
      {"GIT_COMMITTER_NAME", "Agent"},
      {"GIT_COMMITTER_EMAIL", "agent@example.com"},
      {"LC_ALL", "C"}};
  auto cb = [&](std::vector<std::string> args, const std::string& cwd = "",
                std::map<std::string, std::string> extra = {}) {
    args.insert(args.begin(), bin);
    auto e = env;
    for (auto& [k, v] : extra) e[k] = v;
    return RunProc(args, e, cwd);
  };

  // 1. init, token.
  ASSERT_EQ(cb({"init"}).exit_code, 0);
  auto tok = cb({"token", "create", "--role", "admin"});
  ASSERT_EQ(tok.exit_code, 0) << tok.err;
  const std::string token = Trim(tok.out);

  // 2. serve on a free port.
  Proc server({bin, "serve", "--listen", "127.0.0.1:0"}, env, "");
  ASSERT_TRUE(server.WaitForOutput("listening on http://")) << "server did not start";
  // "clawback: listening on http://127.0.0.1:PORT (ledger: sqlite)"
  ASSERT_TRUE(server.WaitForOutput(" (ledger"));
  std::string url = server.Output().substr(server.Output().find("http://"));
  url = url.substr(0, url.find(' '));
  httplib::Client http(url);
  http.set_bearer_token_auth(token);
  http.set_connection_timeout(std::chrono::seconds(5));

  // 3. OpenClaw hooks for session agent:main:main.
  const std::string key = "agent:main:main", sid = "5b7f0c1e-0000-4000-8000-000000000001";
  Json ctx = {{"sessionKey", key}, {"sessionId", sid}, {"agentId", "main"}};
  auto post = [&](const std::string& path, const Json& body) {
    auto r = http.Post(path, body.dump(), "application/json");
    EXPECT_TRUE(r) << path;
    if (!r) return Json();
    EXPECT_LT(r->status, 300) << path << ": " << r->body;
    return Json::parse(r->body, nullptr, false);
  };
  Json started = post("/v1/openclaw/events",
                      {{"hook", "session_start"},
                       {"event", {{"sessionId", sid}, {"sessionKey", key}}},
                       {"ctx", ctx}});
  ASSERT_TRUE(started.contains("conversation_id")) << started.dump();
  const std::string id = started["conversation_id"];

  fs::create_directories(repo);
  ASSERT_EQ(RunProc({"sh", "-c", "git init -q -b main . && echo v1 > app.conf && git add . && "
                              "git commit -q -m initial"},
                env, repo.string())
                .exit_code,
            0);
  ASSERT_EQ(cb({"git", "install-hooks", repo.string()}).exit_code, 0);
  ASSERT_EQ(RunProc({"sh", "-c", "echo v2 > app.conf"}, env, repo.string()).exit_code, 0);

  const std::string call = "call_done_when_1";
  Json tool_ctx = ctx;
  tool_ctx["toolName"] = "exec";
  tool_ctx["toolCallId"] = call;
  Json params = {{"command", "git commit -am 'raise the limit'"}};
  post("/v1/openclaw/events",
       {{"hook", "before_tool_call"},
        {"event", {{"toolName", "exec"}, {"params", params}, {"toolCallId", call}}},
        {"ctx", tool_ctx}});
  // What OpenClaw's exec runs, with the conversation in its environment (the plugin puts
  // CLAWBACK_CONVERSATION_ID there); through the server, as a deployed agent would.
  auto commit = cb({"exec", "--tool-call-id", call, "--", "git", "commit", "-q", "-am",
                    "raise the limit"},
                   repo.string(),
                   {{"CLAWBACK_CONVERSATION_ID", id},
                    {"CLAWBACK_SERVER", url},
                    {"CLAWBACK_TOKEN", token}});
  ASSERT_EQ(commit.exit_code, 0) << commit.err;
  post("/v1/openclaw/events",
       {{"hook", "after_tool_call"},
        {"event",
         {{"toolName", "exec"},
          {"params", params},
          {"toolCallId", call},
          {"result", {{"details", {{"status", "completed"}, {"exitCode", 0}, {"durationMs", 40}}}}},
          {"durationMs", 61}}},
        {"ctx", tool_ctx}});
  post("/v1/openclaw/events",
       {{"hook", "session_end"},
        {"event", {{"sessionId", sid}, {"sessionKey", key}, {"reason", "idle"}}},
        {"ctx", ctx}});

  std::string sha = Trim(RunProc({"git", "rev-parse", "HEAD"}, env, repo.string()).out);
  std::string msg = RunProc({"git", "log", "-1", "--format=%B"}, env, repo.string()).out;
  EXPECT_THAT(msg, HasSubstr("Clawback-Conversation: " + id));

  // 4. The deployment of that commit.
  Json dep = post("/v1/deployments",
                  {{"environment", "prod"}, {"commit_sha", sha}, {"status", "succeeded"}});
  EXPECT_EQ(dep.value("conversation_id", ""), id) << dep.dump();

  // 5. Both traces show the whole chain, and they are the same document.
  auto cli_trace = cb({"trace", id, "--json"});
  ASSERT_EQ(cli_trace.exit_code, 0) << cli_trace.err;
  auto api = http.Get("/v1/conversations/" + id + "/trace");
  ASSERT_TRUE(api);
  ASSERT_EQ(api->status, 200) << api->body;
  Json a = Json::parse(cli_trace.out), b = Json::parse(api->body);
  EXPECT_EQ(a, b);
  for (const Json& t : {a, b}) {
    EXPECT_EQ(t["conversation"]["id"], id);
    bool tool = false, command = false, commit_ok = false, deploy = false;
    for (const auto& tc : t["tool_calls"]) {
      tool = tool || (tc["tool_call_id"] == call && tc["name"] == "exec");
    }
    for (const auto& c : t["commands"]) {
      command = command || (c["argv"].size() > 1 && c["argv"][0] == "git" &&
                            c["argv"][1] == "commit" && c["exit_code"] == 0);
    }
    for (const auto& c : t["commits"]) {
      commit_ok = commit_ok || (c["sha"] == sha && c["trailer"] == id);
    }
    for (const auto& d : t["deployments"]) {
      deploy = deploy || (d["commit_sha"] == sha && d["environment"] == "prod");
    }
    EXPECT_TRUE(tool) << t.dump(1);
    EXPECT_TRUE(command) << t.dump(1);
    EXPECT_TRUE(commit_ok) << t.dump(1);
    EXPECT_TRUE(deploy) << t.dump(1);
  }
  auto tree = cb({"trace", id});
  EXPECT_THAT(tree.out, HasSubstr("toolCallId=" + call));
  EXPECT_THAT(tree.out, HasSubstr("deployment prod"));
  // The text trace through the server is the same text.
  EXPECT_EQ(cb({"--server", url, "trace", id}, "", {{"CLAWBACK_TOKEN", token}}).out, tree.out);

  // 6. Tamper with one stored event: verify exits non-zero naming the row.
  ::kill(server.pid(), SIGTERM);
  ProcResult stopped = server.Wait();
  EXPECT_EQ(stopped.exit_code, 0) << "clawback serve's stderr:\n" << stopped.err;
  ASSERT_EQ(cb({"ledger", "verify"}).exit_code, 0);
  auto seq = RunProc({"sqlite3", (data / "ledger.db").string(),
                  "SELECT seq FROM events ORDER BY seq LIMIT 1 OFFSET 2;"},
                 env);
  ASSERT_EQ(seq.exit_code, 0) << seq.err;
  std::string row = Trim(seq.out);
  ASSERT_FALSE(row.empty());
  ASSERT_EQ(RunProc({"sqlite3", (data / "ledger.db").string(),
                 "UPDATE events SET actor = 'mallory' WHERE seq = " + row + ";"},
                env)
                .exit_code,
            0);
  auto verify = cb({"ledger", "verify"});
  EXPECT_NE(verify.exit_code, 0);
  EXPECT_THAT(verify.out + verify.err, HasSubstr("event " + row));
}

}  // namespace
}  // namespace clawback::testing
