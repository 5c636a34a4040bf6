#include "record/openclaw.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "record/test_util.h"
#include "ledger/ledger_internal.h"

namespace clawback::record {
namespace {

using ledger::WriteBatch;

// Replays items through MapOpenClawItem with a state map, as the writer does.
class Replay {
 public:
  std::optional<Uuid> Feed(const Json& j, WriteBatch* batch) {
    OpenClawItem item;
    FieldError err;
    if (!ParseOpenClawItem(j, "", 1'000, &item, &err)) {
      // Only the capture's record of the tap plugin's own register() call is refused: it is
      // not a hook.
      EXPECT_EQ(j.value("hook", ""), "register") << err.status.ToString();
      EXPECT_EQ(err.field, "hook");
      return std::nullopt;
    }
    auto& st = states_[item.session_key];
    if (item.session_key.empty()) {
      std::optional<SessionState> none;
      return MapOpenClawItem(item, &none, [this] { return gen_.Next(); }, batch);
    }
    return MapOpenClawItem(item, &st, [this] { return gen_.Next(); }, batch);
  }
  std::map<std::string, std::optional<SessionState>> states_;

 private:
  ManualClock clock_;
  UuidV7Generator gen_{clock_};
};

template <typename T>
std::vector<T> OpsOf(const WriteBatch& b) {
  std::vector<T> out;
  for (const auto& op : b.ops)
    if (auto* p = std::get_if<T>(&op)) out.push_back(*p);
  return out;
}

bool HasExternal(const WriteBatch& b, const std::string& kind, const std::string& value) {
  for (const auto& a : OpsOf<ledger::AddExternalId>(b))
    if (a.external_id.kind == kind && a.external_id.value == value) return true;
  for (const auto& c : OpsOf<ledger::Conversation>(b))
    for (const auto& e : c.external_ids)
      if (e.kind == kind && e.value == value) return true;
  return false;
}

TEST(OpenClawMapping, FullFixtureReplay) {
  auto lines = testing::LoadOpenClawFixture();
  ASSERT_EQ(lines.size(), 12u);
  Replay r;
  std::vector<WriteBatch> batches(lines.size());
  std::vector<std::optional<Uuid>> conv(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) conv[i] = r.Feed(lines[i], &batches[i]);

  // 0,1: the tap plugin's register calls, which are not hooks: refused, nothing written.
  EXPECT_FALSE(conv[0]);
  EXPECT_FALSE(conv[1]);
  EXPECT_TRUE(batches[0].ops.empty());

  // 2..4: a webhook/cron turn with no session_start: the first tool event opens it.
  ASSERT_TRUE(conv[2]);
  EXPECT_EQ(conv[3], conv[2]);
  EXPECT_EQ(conv[4], conv[2]);
  auto opened = OpsOf<ledger::Conversation>(batches[2]);
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(opened[0].id, *conv[2]);
  EXPECT_EQ(opened[0].source, "openclaw");
  EXPECT_EQ(opened[0].agent, "main");
  EXPECT_FALSE(opened[0].previous_id);
  int64_t t2 = 0;
  ASSERT_TRUE(ParseRfc3339Millis("2026-11-27T02:12:12.226Z", &t2));
  EXPECT_EQ(opened[0].started_at_ms, t2);
  EXPECT_TRUE(HasExternal(batches[2], kExtSessionKey,
                          "agent:main:cron:5095e1af-c675-496a-ad85-d6a79e8f3650:run:"
                          "5cb49175-5537-42c2-9cb3-a27836a829f0"));
  EXPECT_TRUE(HasExternal(batches[2], kExtSessionId, "5cb49175-5537-42c2-9cb3-a27836a829f0"));
  EXPECT_TRUE(HasExternal(batches[2], kExtRunId, "2fe0e255-efd4-4ec2-8535-65079b2d5435"));
  EXPECT_TRUE(HasExternal(batches[2], kExtTraceId, "a5475fa110f5e1024181b13214724214"));
  auto started = OpsOf<ledger::ToolCall>(batches[2]);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].tool_call_id, "call_c330515db3db");
  EXPECT_EQ(started[0].name, "exec");
  EXPECT_EQ(started[0].status, "started");
  // params travel as their stored text (serialised on the request's thread).
  EXPECT_EQ(Json::parse(started[0].params_text)["command"], "echo hi > /tmp/oc-e2e/run/work/out.txt");
  EXPECT_EQ(started[0].started_at_ms, t2);

  // after_tool_call: status, exit code, duration; and the exec Command.
  auto finished = OpsOf<ledger::ToolCall>(batches[3]);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0].status, "ok");
  EXPECT_EQ(finished[0].exit_code, 0);
  EXPECT_EQ(finished[0].duration_ms, 661);
  EXPECT_EQ(finished[0].started_at_ms, t2);  // kept from before_tool_call
  EXPECT_EQ(Json::parse(finished[0].result_text)["details"]["exitCode"], 0);
  auto cmds = OpsOf<ledger::Command>(batches[3]);
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].argv, std::vector<std::string>{"echo hi > /tmp/oc-e2e/run/work/out.txt"});
  EXPECT_EQ(cmds[0].cwd, "/tmp/oc-e2e/run/work");
  EXPECT_EQ(cmds[0].exit_code, 0);
  EXPECT_EQ(cmds[0].duration_ms, 295);
  EXPECT_EQ(cmds[0].tool_call_id, "call_c330515db3db");
  EXPECT_EQ(cmds[0].conversation_id, conv[2]);
  // The run id is recorded once, not per event.
  EXPECT_FALSE(HasExternal(batches[3], kExtRunId, "2fe0e255-efd4-4ec2-8535-65079b2d5435"));

  // 5: session_start of agent:main:e2e-cli opens a new conversation.
  ASSERT_TRUE(conv[5]);
  EXPECT_NE(conv[5], conv[2]);
  for (int i : {6, 7, 8}) EXPECT_EQ(conv[i], conv[5]) << i;
  // 9: session_end (reset) closes it.
  EXPECT_EQ(conv[9], conv[5]);
  auto ends = OpsOf<ledger::EndConversation>(batches[9]);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].id, *conv[5]);
  EXPECT_EQ(ends[0].status, "reset");
  // 10: session_start after the reset (same sessionId): a new conversation linked back.
  ASSERT_TRUE(conv[10]);
  EXPECT_NE(conv[10], conv[5]);
  auto reopened = OpsOf<ledger::Conversation>(batches[10]);
  ASSERT_EQ(reopened.size(), 1u);
  EXPECT_EQ(reopened[0].previous_id, conv[5]);
  EXPECT_EQ(reopened[0].attributes["resumed_from"], "7a5e0e0e-ca59-4cd0-9dca-9fd83b39f9b5");
  // 11: session_end (shutdown).
  ASSERT_EQ(lines.size(), 12u);

  // Every hook item is stored as exactly one event of kind openclaw.<hook>.
  for (size_t i = 2; i < lines.size(); ++i) {
    auto evs = OpsOf<ledger::Event>(batches[i]);
    ASSERT_EQ(evs.size(), 1u);
    EXPECT_EQ(evs[0].kind, "openclaw." + lines[i]["hook"].get<std::string>());
    EXPECT_EQ(evs[0].conversation_id, conv[i]);
    EXPECT_FALSE(evs[0].attributes["ctx"].contains("abortSignal"));
  }
}

TEST(OpenClawMapping, ShutdownEndsAsEnded) {
  auto lines = testing::LoadOpenClawFixture();
  Replay r;
  WriteBatch b;
  for (size_t i = 5; i < lines.size() - 1; ++i) r.Feed(lines[i], &b);
  WriteBatch last;
  auto c = r.Feed(lines.back(), &last);
  auto ends = OpsOf<ledger::EndConversation>(last);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].id, *c);
  EXPECT_EQ(ends[0].status, "ended");
  EXPECT_FALSE(r.states_["agent:main:e2e-cli"]->open);
}

Json Item(const std::string& hook, const std::string& key, const std::string& sid,
          Json event = Json::object()) {
  return Json{{"hook", hook}, {"event", event}, {"ctx", {{"sessionKey", key}, {"sessionId", sid}, {"agentId", "main"}}}};
}

TEST(OpenClawMapping, EventAfterEndOpensLinkedConversation) {
  Replay r;
  WriteBatch b1, b2, b3;
  auto a = r.Feed(Item("session_start", "agent:main:x", "s1"), &b1);
  r.Feed(Item("session_end", "agent:main:x", "s1"), &b2);
  auto c = r.Feed(Item("message_received", "agent:main:x", "s1"), &b3);
  ASSERT_TRUE(a && c);
  EXPECT_NE(*a, *c);
  auto opened = OpsOf<ledger::Conversation>(b3);
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(opened[0].previous_id, a);
  EXPECT_EQ(opened[0].attributes["opened_by"], "message_received");
}

TEST(OpenClawMapping, LateSessionStartAdoptsImplicitConversation) {
  Replay r;
  WriteBatch b1, b2;
  auto a = r.Feed(Item("message_received", "agent:main:y", "s1"), &b1);
  auto b = r.Feed(Item("session_start", "agent:main:y", "s1"), &b2);
  EXPECT_EQ(a, b);
  EXPECT_TRUE(OpsOf<ledger::Conversation>(b2).empty());
  // A second session_start while open supersedes.
  WriteBatch b3;
  auto c = r.Feed(Item("session_start", "agent:main:y", "s1"), &b3);
  EXPECT_NE(c, a);
  auto ends = OpsOf<ledger::EndConversation>(b3);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].status, "superseded");
  EXPECT_EQ(OpsOf<ledger::Conversation>(b3)[0].previous_id, a);
}

TEST(OpenClawMapping, SessionEndOfUnknownSessionOpensAndCloses) {
  Replay r;
  WriteBatch b;
  auto a = r.Feed(Item("session_end", "agent:main:z", "s9"), &b);
  ASSERT_TRUE(a);
  EXPECT_EQ(OpsOf<ledger::Conversation>(b).size(), 1u);
  EXPECT_EQ(OpsOf<ledger::EndConversation>(b).size(), 1u);
  WriteBatch b2;
  EXPECT_EQ(r.Feed(Item("session_end", "agent:main:z", "s9"), &b2), a);  // repeated: attaches
  EXPECT_TRUE(OpsOf<ledger::EndConversation>(b2).empty());
}

TEST(OpenClawMapping, UnknownHookIsStoredAndToolErrorRecorded) {
  Replay r;
  WriteBatch b;
  auto a = r.Feed(Item("subagent_spawned", "k", "s", {{"childSessionKey", "k2"}}), &b);
  ASSERT_TRUE(a);
  EXPECT_EQ(OpsOf<ledger::Event>(b)[0].kind, "openclaw.subagent_spawned");
  WriteBatch b2;
  Json ev = {{"toolName", "exec"}, {"toolCallId", "t1"}, {"params", {{"command", "false"}}},
             {"error", "exit 1"}, {"durationMs", 12.0},
             {"result", {{"details", {{"exitCode", 1}, {"durationMs", 5}}}}}};
  r.Feed(Item("after_tool_call", "k", "s", ev), &b2);
  auto t = OpsOf<ledger::ToolCall>(b2);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].status, "error");
  EXPECT_EQ(t[0].error, "exit 1");
  EXPECT_EQ(t[0].exit_code, 1);
  EXPECT_EQ(t[0].duration_ms, 12);
  EXPECT_EQ(OpsOf<ledger::Command>(b2)[0].exit_code, 1);
}

TEST(OpenClawMapping, StateFromConversationIsClosedWhenEnded) {
  ledger::Conversation c;
  c.id = NewUuidV7();
  c.status = "ended";
  c.ended_at_ms = 5;
  c.external_ids = {{kExtSessionId, "abc"}, {kExtRunId, "r"}};
  SessionState st = SessionStateFromConversation(c);
  EXPECT_FALSE(st.open);
  EXPECT_EQ(st.session_id, "abc");
  EXPECT_TRUE(st.external_ids.count({kExtRunId, "r"}));
}

TEST(OpenClawParse, ErrorsNameTheField) {
  std::vector<OpenClawItem> items;
  FieldError err;
  EXPECT_FALSE(ParseOpenClawBody(Json::parse("42"), 0, 100, &items, &err));
  EXPECT_FALSE(ParseOpenClawBody(Json::array(), 0, 100, &items, &err));
  EXPECT_FALSE(ParseOpenClawBody(Json::parse(R"({"event":{}})"), 0, 100, &items, &err));
  EXPECT_EQ(err.field, "hook");
  EXPECT_EQ(err.status.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseOpenClawBody(Json::parse(R"([{"hook":"agent_end"},{"hook":"llm_input","ctx":[]}])"),
                                 0, 100, &items, &err));
  EXPECT_EQ(err.field, "[1].ctx");
  EXPECT_FALSE(ParseOpenClawBody(Json::parse(R"({"hook":"agent_end","ctx":{"sessionKey":5}})"), 0,
                                 100, &items, &err));
  EXPECT_EQ(err.field, "ctx.sessionKey");
  EXPECT_FALSE(ParseOpenClawBody(Json::parse(R"({"hook":"agent_end","ts":"yesterday"})"), 0, 100,
                                 &items, &err));
  EXPECT_EQ(err.field, "ts");
  EXPECT_FALSE(ParseOpenClawBody(Json::parse(R"([{"hook":"agent_end"},{"hook":"llm_input"}])"), 0, 1,
                                 &items, &err));
  ASSERT_TRUE(ParseOpenClawBody(
      Json::parse(R"([{"hook":"gateway_start"},{"hook":"agent_end","event":{"sessionId":"q"}}])"), 7,
      100, &items, &err));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].time_ms, 7);
  EXPECT_EQ(items[1].session_key, "id:q");
}

// Issue 12, item 6: an unknown hook is refused naming the known ones, and a hook that
// belongs to a session must say which (session_start with no ctx stored nothing).
TEST(OpenClawParse, UnknownHooksAndMissingContextAreRefused) {
  std::vector<OpenClawItem> items;
  FieldError err;
  EXPECT_FALSE(ParseOpenClawBody(Json::parse(R"({"hook":"sesion_start","ctx":{"sessionKey":"k"}})"), 0,
                                 100, &items, &err));
  EXPECT_EQ(err.field, "hook");
  EXPECT_THAT(err.status.message(), ::testing::HasSubstr("\"sesion_start\", not an OpenClaw hook"));
  EXPECT_THAT(err.status.message(), ::testing::HasSubstr("(did you mean session_start?)"));
  EXPECT_THAT(err.status.message(), ::testing::HasSubstr("known hooks: gateway_start, "));
  EXPECT_THAT(err.status.message(), ::testing::HasSubstr("before_tool_call"));

  for (const char* hook : {"session_start", "session_end", "before_tool_call", "after_tool_call"}) {
    SCOPED_TRACE(hook);
    Json item = {{"hook", hook}, {"event", {{"toolName", "exec"}}}};
    EXPECT_FALSE(ParseOpenClawBody(item, 0, 100, &items, &err));
    EXPECT_EQ(err.field, "ctx");
    EXPECT_THAT(err.status.message(), ::testing::HasSubstr("neither sessionKey nor sessionId"));
  }
  Json no_tool = {{"hook", "before_tool_call"}, {"ctx", {{"sessionKey", "agent:main:main"}}}};
  EXPECT_FALSE(ParseOpenClawBody(no_tool, 0, 100, &items, &err));
  EXPECT_EQ(err.field, "event.toolName");
  // A session id alone names the session; hooks outside a session need none.
  EXPECT_TRUE(ParseOpenClawBody(Json::parse(R"({"hook":"session_start","event":{"sessionId":"s1"}})"), 0,
                                100, &items, &err))
      << err.status.ToString();
  EXPECT_TRUE(ParseOpenClawBody(Json::parse(R"({"hook":"gateway_start"})"), 0, 100, &items, &err));
  EXPECT_TRUE(ParseOpenClawBody(Json::parse(R"({"hook":"plugin.delivery_gap","event":{"dropped":3}})"),
                                0, 100, &items, &err));
}

// The text prepared on the request's thread is byte for byte what the ledger would store
// for the event's attributes (and hash), so moving the work off the writer changes nothing.
TEST(OpenClawAttributesText, MatchesTheLedgersSerialisationOfTheEvent) {
  const std::vector<Json> bodies = {
      {{"hook", "before_tool_call"},
       {"event", {{"toolName", "exec"}, {"params", {{"command", "echo \"hi\"\n"}, {"n", 1.5}}}}},
       {"ctx", {{"sessionKey", "agent:main:x"}, {"trace", {{"traceId", "ab"}}}, {"z", nullptr}}}},
      {{"hook", "after_tool_call"},
       {"event", {{"toolName", "exec"}, {"params", {{"command", std::string("ls \xff")}}}, {"paramz", 1},
                  {"result", {{"content", Json::array({{{"text", "a\tb"}}})}}}, {"z", 2}}},
       {"ctx", {{"sessionId", "s"}}}},
      {{"hook", "after_tool_call"},
       {"event", {{"toolName", "read"}, {"params", Json::object()}, {"result", nullptr}}},
       {"ctx", {{"sessionId", "s"}}}},
      {{"hook", "after_tool_call"}, {"event", {{"toolName", "x"}, {"result", "plain"}}}, {"ctx", {{"sessionId", "s"}}}},
      {{"hook", "session_start"}, {"ctx", {{"sessionKey", "agent:main:x"}}}},
      {{"hook", "agent_end"},
       {"event", {{"messages", Json::array({"\u00e9t\u00e9", std::string("bad\xff"), 7, true})}}},
       {"ctx", {{"abortSignal", Json::object()}, {"sessionId", "s"}}}},
  };
  for (const Json& body : bodies) {
    OpenClawItem item;
    FieldError err;
    ASSERT_TRUE(ParseOpenClawItem(body, "", 1'000, &item, &err)) << err.status.ToString();
    Json attributes = {{"hook", item.hook}, {"event", item.event}, {"ctx", item.ctx}};
    EXPECT_EQ(item.attributes_text, ledger::StoredAttributes(attributes)) << body.dump();
    // A tool hook's params (a non-empty object) and result (not null), each as DumpJson
    // would write it alone.
    const bool tool = item.hook == "before_tool_call" || item.hook == "after_tool_call";
    const Json* params = item.event.contains("params") ? &item.event["params"] : nullptr;
    const Json* result = item.event.contains("result") ? &item.event["result"] : nullptr;
    EXPECT_EQ(item.params_text, tool && params && params->is_object() && !params->empty()
                                    ? ledger::DumpJson(*params)
                                    : "")
        << body.dump();
    EXPECT_EQ(item.result_text, tool && result && !result->is_null() ? ledger::DumpJson(*result) : "")
        << body.dump();
    // And the mapped event carries both, equal.
    std::optional<SessionState> st;
    ledger::WriteBatch batch;
    UuidV7Generator ids;
    MapOpenClawItem(item, &st, [&] { return ids.Next(); }, &batch);
    const auto* e = std::get_if<ledger::Event>(&batch.ops.back());
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->attributes_text, ledger::StoredAttributes(e->attributes));
  }
}

}  // namespace
}  // namespace clawback::record
