#include "cli/trace_render.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ledger/trace_json.h"

namespace clawback::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

ledger::Trace SampleTrace() {
  constexpr int64_t kStart = 1'790'000'000'000;
  ledger::Trace t;
  t.conversation.id = *Uuid::Parse("0190f3a2-7c1e-7d41-9a2b-1c2d3e4f5a6b");
  t.conversation.source = "openclaw";
  t.conversation.title = "bump nginx";
  t.conversation.started_at_ms = kStart;
  t.conversation.ended_at_ms = kStart + 65'000;
  t.conversation.status = "ended";
  t.conversation.external_ids = {{"openclaw.session_key", "agent:main:main"}};
  ledger::ToolCall tc;
  tc.conversation_id = t.conversation.id;
  tc.tool_call_id = "call_abc";
  tc.name = "exec";
  tc.params = {{"command", "git commit -m x"}};
  tc.status = "ok";
  tc.exit_code = 0;
  tc.duration_ms = 1500;
  tc.started_at_ms = kStart + 1000;
  t.tool_calls.push_back(tc);
  ledger::Command nested;
  nested.id = *Uuid::Parse("0190f3a2-7c1e-7d41-9a2b-000000000001");
  nested.argv = {"git", "commit", "-m", "two words"};
  nested.cwd = "/srv/app";
  nested.exit_code = 0;
  nested.started_at_ms = kStart + 1100;
  nested.duration_ms = 40;
  nested.tool_call_id = "call_abc";
  t.commands.push_back(nested);
  ledger::Command loose;
  loose.id = *Uuid::Parse("0190f3a2-7c1e-7d41-9a2b-000000000002");
  loose.argv = {"false"};
  loose.exit_code = 1;
  loose.started_at_ms = kStart + 30'000;
  loose.duration_ms = 3;
  t.commands.push_back(loose);
  ledger::Commit c;
  c.sha = "0123456789abcdef0123456789abcdef01234567";
  c.branch = "main";
  c.message = "bump nginx\n\nClawback-Conversation: 0190f3a2-7c1e-7d41-9a2b-1c2d3e4f5a6b";
  c.trailer = "0190f3a2-7c1e-7d41-9a2b-1c2d3e4f5a6b";
  c.files = {"nginx.conf"};
  c.time_ms = kStart + 2000;
  t.commits.push_back(c);
  ledger::Deployment d;
  d.id = *Uuid::Parse("0190f3a2-7c1e-7d41-9a2b-000000000003");
  d.environment = "prod";
  d.commit_sha = c.sha;
  d.status = "succeeded";
  d.started_at_ms = kStart + 40'000;
  d.finished_at_ms = kStart + 43'200;
  t.deployments.push_back(d);
  return t;
}

TEST(TraceJson, HasEveryListAndStableShape) {
  auto j = ledger::TraceToJson(SampleTrace());
  for (const char* key : {"conversation", "tool_calls", "commands", "file_changes", "commits",
                          "deployments", "snapshots", "backups", "rollbacks", "events"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["tool_calls"][0]["tool_call_id"], "call_abc");
  EXPECT_EQ(j["commands"][1]["exit_code"], 1);
  EXPECT_TRUE(j["commands"][1]["tool_call_id"].is_null());
  EXPECT_EQ(j["commits"][0]["trailer"], "0190f3a2-7c1e-7d41-9a2b-1c2d3e4f5a6b");
  EXPECT_EQ(j["deployments"][0]["duration_ms"], 3200);
  EXPECT_EQ(j["conversation"]["duration_ms"], 65'000);
  EXPECT_EQ(j["conversation"]["trace_id"], "0190f3a27c1e7d419a2b1c2d3e4f5a6b");
  EXPECT_EQ(j["conversation"]["started_at"], "2026-09-21T14:13:20.000Z");
}

TEST(RenderTrace, ShowsTheChainInTimeOrderWithNesting) {
  std::string text = RenderTrace(ledger::TraceToJson(SampleTrace()));
  EXPECT_THAT(text, HasSubstr("conversation 0190f3a2-7c1e-7d41-9a2b-1c2d3e4f5a6b"));
  EXPECT_THAT(text, HasSubstr("openclaw.session_key=agent:main:main"));
  EXPECT_THAT(text, HasSubstr("tool call exec  toolCallId=call_abc  ok  exit 0  1.5s"));
  EXPECT_THAT(text, HasSubstr("command  git commit -m 'two words'  exit 0  40ms"));
  EXPECT_THAT(text, HasSubstr("command  false  exit 1  3ms"));
  EXPECT_THAT(text, HasSubstr("commit 0123456789ab on main  \"bump nginx\""));
  EXPECT_THAT(text, HasSubstr("Clawback-Conversation: 0190f3a2-7c1e-7d41-9a2b-1c2d3e4f5a6b"));
  EXPECT_THAT(text, HasSubstr("deployment prod  commit 0123456789ab  succeeded  3.2s"));
  // Order: tool call < commit < loose command < deployment; the nested command is indented.
  size_t tool = text.find("tool call exec"), commit = text.find("commit 0123"),
         loose = text.find("command  false"), deploy = text.find("deployment prod");
  EXPECT_LT(tool, commit);
  EXPECT_LT(commit, loose);
  EXPECT_LT(loose, deploy);
  EXPECT_THAT(text, HasSubstr("│  └─ 14:13:21.100  (+1.1s)  command  git commit"));
  EXPECT_THAT(text, HasSubstr("(+30.0s)  command  false"));
}

TEST(RenderTrace, EmptyTraceSaysSo) {
  ledger::Trace t;
  t.conversation.id = NewUuidV7();
  std::string text = RenderTrace(ledger::TraceToJson(t));
  EXPECT_THAT(text, HasSubstr("nothing recorded yet"));
  EXPECT_THAT(text, Not(HasSubstr("├─")));
}

TEST(RenderConversationList, TableAndEmpty) {
  EXPECT_EQ(RenderConversationList(ledger::ConversationListToJson({})), "no conversations\n");
  ledger::Conversation c = SampleTrace().conversation;
  std::string text = RenderConversationList(ledger::ConversationListToJson({c}));
  EXPECT_THAT(text, HasSubstr("0190f3a2-7c1e-7d41-9a2b-1c2d3e4f5a6b"));
  EXPECT_THAT(text, HasSubstr("1m05s"));
  EXPECT_THAT(text, HasSubstr("bump nginx"));
}

TEST(FormatDuration, Ranges) {
  EXPECT_EQ(FormatDuration(0), "0ms");
  EXPECT_EQ(FormatDuration(999), "999ms");
  EXPECT_EQ(FormatDuration(1500), "1.5s");
  EXPECT_EQ(FormatDuration(252'000), "4m12s");
  EXPECT_EQ(FormatDuration(7'380'000), "2h03m");
}

}  // namespace
}  // namespace clawback::cli
