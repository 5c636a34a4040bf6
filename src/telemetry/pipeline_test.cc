#include "telemetry/pipeline.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <set>
#include <thread>

namespace clawback::telemetry {
namespace {

using ledger::Json;

const Uuid kConv = *Uuid::Parse("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");

ledger::WriteBatch StartBatch() {
  ledger::WriteBatch b;
  ledger::Conversation c;
  c.id = kConv;
  c.source = "openclaw";
  c.started_at_ms = 1'795'746'700'000;
  c.external_ids = {{"openclaw.session_key", "agent:main:main"}};
  b.Add(c);
  ledger::Event e;
  e.id = NewUuidV7();
  e.conversation_id = kConv;
  e.kind = "openclaw.before_tool_call";
  e.time_ms = 1'795'746'701'000;
  e.actor = "openclaw:main";
  e.attributes = Json::parse(R"({"hook":"before_tool_call",
    "event":{"toolName":"exec","params":{"command":"echo hi > out.txt"},"toolCallId":"call_1"},
    "ctx":{"sessionKey":"agent:main:main","toolCallId":"call_1",
           "trace":{"traceId":"a5475fa110f5e1024181b13214724214","spanId":"39dcd91a8b2d116d"}}})");
  b.Add(e);
  ledger::ToolCall t;
  t.conversation_id = kConv;
  t.tool_call_id = "call_1";
  t.name = "exec";
  t.started_at_ms = 1'795'746'701'000;
  b.Add(t);
  return b;
}

ledger::WriteBatch FinishBatch() {
  ledger::WriteBatch b;
  ledger::ToolCall t;
  t.conversation_id = kConv;
  t.tool_call_id = "call_1";
  t.name = "exec";
  t.status = "ok";
  t.exit_code = 0;
  t.started_at_ms = 1'795'746'701'000;
  t.finished_at_ms = 1'795'746'701'300;
  t.duration_ms = 300;
  b.Add(t);
  ledger::Deployment d;
  d.id = NewUuidV7();
  d.conversation_id = kConv;
  d.environment = "prod";
  d.commit_sha = "abc123";
  d.status = "succeeded";
  d.started_at_ms = 1'795'746'702'000;
  d.finished_at_ms = 1'795'746'705'000;
  b.Add(d);
  b.Add(ledger::EndConversation{kConv, "ended", 1'795'746'710'000});
  return b;
}

const Attribute* Find(const Span& s, const std::string& key) {
  for (const auto& a : s.attributes)
    if (a.key == key) return &a;
  return nullptr;
}

TEST(TelemetryPipeline, MapsConversationToOneTrace) {
  Registry reg;
  TelemetryPipeline p(TelemetryOptions{}, &reg);
  std::vector<Span> spans;
  std::vector<LogLine> logs;
  std::vector<Annotation> annotations;
  p.Map(StartBatch(), &spans, &logs, &annotations);
  EXPECT_TRUE(spans.empty());  // nothing finished yet
  ASSERT_EQ(logs.size(), 1u);
  auto line = Json::parse(logs[0].line);
  EXPECT_EQ(line["conversation_id"], kConv.ToString());
  EXPECT_EQ(line["kind"], "openclaw.before_tool_call");
  EXPECT_EQ(line["summary"], "before_tool_call exec: echo hi > out.txt");
  EXPECT_EQ(logs[0].conversation_id, kConv.ToString());

  p.Map(FinishBatch(), &spans, &logs, &annotations);
  ASSERT_EQ(spans.size(), 3u);
  for (const auto& s : spans) EXPECT_EQ(s.trace_id, kConv.bytes()) << s.name;
  const Span& tool = spans[0];
  EXPECT_EQ(tool.name, "tool_call exec");
  EXPECT_EQ(tool.parent_span_id, RootSpanId(kConv));
  ASSERT_EQ(tool.links.size(), 1u);  // to OpenClaw's own trace
  EXPECT_EQ(HexEncode(tool.links[0].trace_id.data(), 16), "a5475fa110f5e1024181b13214724214");
  EXPECT_EQ(std::get<std::string>(Find(tool, "openclaw.session_key")->value), "agent:main:main");
  EXPECT_EQ(tool.end_unix_nanos - tool.start_unix_nanos, 300'000'000u);
  const Span& deploy = spans[1];
  EXPECT_EQ(std::get<std::string>(Find(deploy, "deployment.environment.name")->value), "prod");
  EXPECT_EQ(std::get<std::string>(Find(deploy, "vcs.ref.head.revision")->value), "abc123");
  const Span& root = spans[2];
  EXPECT_EQ(root.name, "conversation");
  EXPECT_EQ(root.span_id, RootSpanId(kConv));
  EXPECT_EQ(root.parent_span_id, (std::array<uint8_t, 8>{}));
  EXPECT_EQ(root.start_unix_nanos, 1'795'746'700'000'000'000u);
  EXPECT_EQ(std::get<std::string>(Find(root, "clawback.conversation.id")->value), kConv.ToString());
  ASSERT_EQ(annotations.size(), 1u);
  EXPECT_NE(annotations[0].text.find(kConv.ToString()), std::string::npos);
}

TEST(TelemetryPipeline, LokiPushGroupsByKindWithLowCardinalityLabels) {
  std::vector<LogLine> lines = {{1, "a", R"({"x":1})", "c1"}, {2, "b", "{}", ""}, {3, "a", "{}", "c2"}};
  auto j = Json::parse(EncodeLokiPush(lines, "prod"));
  ASSERT_EQ(j["streams"].size(), 2u);
  const auto& a = j["streams"][0];
  EXPECT_EQ(a["stream"], Json({{"service", "clawback"}, {"kind", "a"}, {"env", "prod"}}));
  ASSERT_EQ(a["values"].size(), 2u);
  EXPECT_EQ(a["values"][0][0], "1");
  EXPECT_EQ(a["values"][0][2]["conversation_id"], "c1");
  EXPECT_EQ(j["streams"][1]["values"][0].size(), 2u);  // no metadata without a conversation
}

TEST(TelemetryPipeline, ConfigErrorsNameTheKey) {
  auto c = Config::Parse("[telemetry.otlp]\nendpoint = \"http://x:4318\"\nprotocol = \"grpc\"\n",
                         "c.toml", "/d");
  ASSERT_TRUE(c.ok());
  auto o = ParseTelemetryOptions(*c);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("telemetry.otlp.protocol"), std::string::npos);
  auto g = Config::Parse("[telemetry.grafana]\nurl = \"http://x:3000\"\n", "c.toml", "/d");
  EXPECT_FALSE(ParseTelemetryOptions(*g).ok());
}

// A receiver on loopback: OTLP JSON and Loki push arrive; a dead one costs drops only.
TEST(TelemetryPipeline, ExportsToAReceiverAndDropsWhenItIsDown) {
  httplib::Server srv;
  std::mutex mu;
  std::vector<std::string> traces, pushes;
  srv.Post("/v1/traces", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> l(mu);
    traces.push_back(req.body);
    res.status = 200;
  });
  srv.Post("/loki/api/v1/push", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> l(mu);
    pushes.push_back(req.body);
    res.status = 204;
  });
  int port = srv.bind_to_any_port("127.0.0.1");
  std::thread t([&] { srv.listen_after_bind(); });
  while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  Registry reg;
  TelemetryOptions o;
  o.otlp_endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.otlp_protocol = "http/json";
  o.loki_url = "http://127.0.0.1:" + std::to_string(port);
  o.exporter.flush_interval = std::chrono::milliseconds(50);
  {
    TelemetryPipeline p(o, &reg);
    p.OnCommitted(StartBatch());
    p.OnCommitted(FinishBatch());
    ASSERT_TRUE(p.Flush(std::chrono::seconds(10)));
  }
  srv.stop();
  t.join();
  std::lock_guard<std::mutex> l(mu);
  ASSERT_FALSE(traces.empty());
  std::set<std::string> trace_ids;
  for (const auto& body : traces) {
    Json j = Json::parse(body);
    for (const auto& s : j["resourceSpans"][0]["scopeSpans"][0]["spans"])
      trace_ids.insert(s["traceId"].get<std::string>());
  }
  EXPECT_EQ(trace_ids, std::set<std::string>{kConv.ToHex()});
  ASSERT_FALSE(pushes.empty());
  EXPECT_NE(pushes[0].find(kConv.ToString()), std::string::npos);

  // Nobody listens any more: items are dropped and counted, and Enqueue never blocks.
  Registry reg2;
  o.exporter.max_attempts = 2;
  o.exporter.initial_backoff = std::chrono::milliseconds(10);
  o.exporter.queue_capacity = 4;
  TelemetryPipeline dead(o, &reg2);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) dead.OnCommitted(StartBatch());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  dead.Flush(std::chrono::seconds(10));
  std::string text = reg2.ExposePrometheus();
  EXPECT_NE(text.find("clawback_telemetry_dropped_total{exporter=\"loki\",reason=\"queue_full\"}"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("clawback_telemetry_dropped_total{exporter=\"loki\",reason=\"send_failed\"} 0\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace clawback::telemetry
