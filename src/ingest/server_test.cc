// The ingest server over real HTTP, on 127.0.0.1 port 0, with a temp SQLite ledger.
#include "ingest/server.h"

#include <httplib.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "common/testing/temp_dir.h"
#include "record/test_util.h"

namespace clawback::ingest {
namespace {

using record::Json;
namespace testing = record::testing;

using ::testing::HasSubstr;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartWith(ServerOptions{}); }
  void StartWith(ServerOptions opts) {
    server_.reset();
    ledger_.reset();
    tmp_ = test::TempDir("clawback-ingest");  // a fresh one per start; the last one goes
    auto l = ledger::OpenLedger("sqlite:" + tmp_.File("ledger.db"));
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(*l);
    ASSERT_TRUE(ledger_->Migrate().ok());
    ingest_ = AddToken(ledger::Role::kIngest, "plugin");
    viewer_ = AddToken(ledger::Role::kViewer, "dashboard");
    opts.listen = "127.0.0.1:0";
    opts.threads = 4;
    server_ = std::make_unique<IngestServer>(ledger_.get(), opts);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    ledger_.reset();
  }
  std::string AddToken(ledger::Role role, const std::string& name) {
    std::string tok = GenerateToken();
    ledger::WriteBatch b;
    b.Add(MakeTokenRecord(tok, name, role, 1));
    EXPECT_TRUE(ledger_->Apply(b).ok());
    return tok;
  }
  httplib::Headers Auth(const std::string& tok) { return {{"Authorization", "Bearer " + tok}}; }
  httplib::Result Post(const std::string& path, const std::string& body, const std::string& tok) {
    return client_->Post(path.c_str(), Auth(tok), body, "application/json");
  }
  httplib::Result Get(const std::string& path, const std::string& tok) {
    return client_->Get(path.c_str(), Auth(tok));
  }
  int64_t EventCount() {
    auto s = ledger_->Stats();
    EXPECT_TRUE(s.ok());
    return s.ok() ? s->events : -1;
  }
  static Json Body(const httplib::Result& r) { return Json::parse(r->body); }

  test::TempDir tmp_{"clawback-ingest"};  // outlives the ledger in it
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<IngestServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string ingest_, viewer_;
};

TEST_F(ServerTest, OpenClawFixtureReplayBuildsTheTrace) {
  auto lines = testing::LoadOpenClawFixture();
  ASSERT_EQ(lines.size(), 12u);
  std::vector<std::string> conv;
  for (const auto& line : lines) {
    auto r = Post("/v1/openclaw/events", line.dump(), ingest_);
    ASSERT_TRUE(r);
    if (line["hook"] == "register") {
      // The capture's record of the tap plugin's register() call is not a hook.
      ASSERT_EQ(r->status, 400) << r->body;
      conv.push_back("");
      continue;
    }
    ASSERT_EQ(r->status, 200) << r->body;
    Json b = Body(r);
    conv.push_back(b["conversation_id"].is_null() ? "" : b["conversation_id"].get<std::string>());
  }
  EXPECT_EQ(conv[0], "");
  ASSERT_NE(conv[2], "");
  EXPECT_EQ(Uuid::Parse(conv[2])->version(), 7);
  EXPECT_EQ(conv[3], conv[2]);
  EXPECT_EQ(conv[6], conv[5]);
  EXPECT_NE(conv[10], conv[5]);
  EXPECT_EQ(EventCount(), 10);

  // The e2e-cli conversation's trace: the exec tool call, its command and exit code.
  auto t = Get("/v1/conversations/" + conv[5] + "/trace", viewer_);
  ASSERT_EQ(t->status, 200) << t->body;
  Json trace = Body(t);
  EXPECT_EQ(trace["conversation"]["id"], conv[5]);
  EXPECT_EQ(trace["conversation"]["status"], "reset");
  ASSERT_EQ(trace["tool_calls"].size(), 1u) << trace.dump(1);
  EXPECT_EQ(trace["tool_calls"][0]["tool_call_id"], "call_45f46cbdd749");
  EXPECT_EQ(trace["tool_calls"][0]["exit_code"], 0);
  EXPECT_EQ(trace["tool_calls"][0]["duration_ms"], 83);
  ASSERT_EQ(trace["commands"].size(), 1u);
  EXPECT_EQ(trace["commands"][0]["exit_code"], 0);
  EXPECT_EQ(trace["commands"][0]["cwd"], "/tmp/oc-e2e/run/work");
  EXPECT_EQ(trace["events"].size(), 5u);  // start, before, after, agent_end, end

  // Lookups by external id: the session key names the newest conversation, linked back.
  auto by_key = Get("/v1/conversations/by-external/openclaw.session_key/agent:main:e2e-cli", viewer_);
  ASSERT_EQ(by_key->status, 200) << by_key->body;
  EXPECT_EQ(Body(by_key)["id"], conv[10]);
  EXPECT_EQ(Body(by_key)["previous_id"], conv[5]);
  auto by_run = Get("/v1/conversations/by-external/openclaw.run_id/940a6299-e181-43d1-8a7e-e5bd7f503d1a",
                    viewer_);
  ASSERT_EQ(by_run->status, 200);
  EXPECT_EQ(Body(by_run)["id"], conv[5]);
  auto by_trace = Get("/v1/conversations/by-external/openclaw.trace_id/a5475fa110f5e1024181b13214724214",
                      viewer_);
  ASSERT_EQ(by_trace->status, 200);
  EXPECT_EQ(Body(by_trace)["id"], conv[2]);
  EXPECT_EQ(Get("/v1/conversations/by-external/openclaw.run_id/nope", viewer_)->status, 404);

  auto list = Get("/v1/conversations?q=e2e-cli", viewer_);
  ASSERT_EQ(list->status, 200) << list->body;
  EXPECT_EQ(Body(list)["conversations"].size(), 2u);
}

TEST_F(ServerTest, OpenClawArrayIsOneRequest) {
  auto lines = testing::LoadOpenClawFixture();
  Json arr = Json::array();
  for (const auto& l : lines)
    if (l["hook"] != "register") arr.push_back(l);
  auto r = Post("/v1/openclaw/events", arr.dump(), ingest_);
  ASSERT_EQ(r->status, 200) << r->body;
  Json b = Body(r);
  EXPECT_EQ(b["accepted"], 10);
  ASSERT_EQ(b["conversation_ids"].size(), 10u);
  EXPECT_EQ(b["conversation_id"], b["conversation_ids"][9]);
  EXPECT_EQ(EventCount(), 10);
  // A later event for the shut-down session opens a new conversation linked to it.
  Json late = {{"hook", "message_received"},
               {"event", Json::object()},
               {"ctx", {{"sessionKey", "agent:main:e2e-cli"}, {"sessionId", "x"}}}};
  auto r2 = Post("/v1/openclaw/events", late.dump(), ingest_);
  ASSERT_EQ(r2->status, 200);
  auto c = Get("/v1/conversations/" + Body(r2)["conversation_id"].get<std::string>(), viewer_);
  EXPECT_EQ(Body(c)["previous_id"], b["conversation_ids"][9]);
}

TEST_F(ServerTest, AuthErrors) {
  std::string ev = R"({"hook":"agent_end","ctx":{"sessionKey":"k"}})";
  auto none = client_->Post("/v1/openclaw/events", ev, "application/json");
  ASSERT_EQ(none->status, 401);
  EXPECT_EQ(Body(none)["error"]["code"], "unauthenticated");
  EXPECT_EQ(Post("/v1/openclaw/events", ev, "cbk_wrong")->status, 401);
  auto forbidden = Post("/v1/openclaw/events", ev, viewer_);
  ASSERT_EQ(forbidden->status, 403);
  EXPECT_EQ(Body(forbidden)["error"]["code"], "permission_denied");
  EXPECT_THAT(Body(forbidden)["error"]["message"].get<std::string>(), HasSubstr("ingest"));
  EXPECT_EQ(client_->Get("/v1/conversations")->status, 401);
  EXPECT_EQ(Get("/v1/conversations", viewer_)->status, 200);
  EXPECT_EQ(Get("/v1/conversations", ingest_)->status, 200);
  EXPECT_EQ(EventCount(), 0);
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
  auto ready = client_->Get("/readyz");
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(Body(ready)["ledger"], "sqlite");
}

TEST_F(ServerTest, BadInputIs4xxAndLeavesTheLedgerUnchanged) {
  ASSERT_EQ(Post("/v1/openclaw/events", R"({"hook":"agent_end","ctx":{"sessionKey":"k"}})", ingest_)->status,
            200);
  int64_t before = EventCount();
  auto bad = Post("/v1/openclaw/events", "{\"hook\": ", ingest_);
  ASSERT_EQ(bad->status, 400);
  EXPECT_EQ(Body(bad)["error"]["code"], "invalid_argument");
  auto wrong = Post("/v1/openclaw/events",
                    R"([{"hook":"agent_end"},{"hook":"agent_end","ctx":{"sessionId":3}}])", ingest_);
  ASSERT_EQ(wrong->status, 400);
  EXPECT_EQ(Body(wrong)["error"]["field"], "[1].ctx.sessionId");
  auto missing = Post("/v1/deployments", R"({"commit_sha":"abc1234"})", ingest_);
  ASSERT_EQ(missing->status, 400);
  EXPECT_EQ(Body(missing)["error"]["field"], "environment");
  auto deep = Post("/v1/events", std::string(5000, '['), ingest_);
  EXPECT_EQ(deep->status, 400);
  // Unknown ids: 404 naming the field; nothing written.
  auto unknown = Post("/v1/events",
                      R"({"kind":"x","conversation_id":"0190f0c2-a1b2-7c3d-8e9f-001122334455"})",
                      ingest_);
  ASSERT_EQ(unknown->status, 404);
  EXPECT_EQ(Body(unknown)["error"]["field"], "conversation_id");
  EXPECT_EQ(Get("/v1/conversations/0190f0c2-a1b2-7c3d-8e9f-001122334455", viewer_)->status, 404);
  EXPECT_EQ(Get("/v1/conversations/nope", viewer_)->status, 400);
  auto patch = client_->Patch("/v1/deployments/0190f0c2-a1b2-7c3d-8e9f-001122334455", Auth(ingest_),
                              R"({"status":"failed"})", "application/json");
  EXPECT_EQ(patch->status, 404);
  // Over the body limit: 413 with a JSON error.
  std::string huge = R"({"hook":"agent_end","event":{"pad":")" + std::string(1 << 20, 'x') + "\"}}";
  auto big = Post("/v1/openclaw/events", huge, ingest_);
  ASSERT_TRUE(big);
  ASSERT_EQ(big->status, 413);
  EXPECT_EQ(Body(big)["error"]["code"], "too_large");
  auto nowhere = Get("/v1/nowhere", viewer_);
  EXPECT_EQ(nowhere->status, 404);
  EXPECT_EQ(Body(nowhere)["error"]["code"], "not_found");
  EXPECT_EQ(EventCount(), before);
  EXPECT_EQ(client_->Get("/healthz")->status, 200);  // still up
}

TEST_F(ServerTest, CommitAndDeploymentJoinTheConversation) {
  auto c = Post("/v1/conversations",
                R"({"title":"deploy fix","source":"cli","external_ids":[{"kind":"ticket","value":"T-1"}]})",
                ingest_);
  ASSERT_EQ(c->status, 201) << c->body;
  std::string id = Body(c)["conversation_id"];
  auto cmd = Post("/v1/events",
                  R"({"kind":"command","external_id":{"kind":"ticket","value":"T-1"},
                      "attributes":{"argv":["git","commit","-m","x"],"cwd":"/r","exit_code":0,"duration_ms":40}})",
                  ingest_);
  ASSERT_EQ(cmd->status, 200) << cmd->body;
  EXPECT_EQ(Body(cmd)["conversation_id"], id);
  Json commit = {{"sha", "ABCDEF0123456789abcdef0123456789abcdef01"}, {"trailer", id},
                 {"repo", "/r"}, {"branch", "main"}, {"files", {"a.txt"}}};
  auto cm = Post("/v1/commits", commit.dump(), ingest_);
  ASSERT_EQ(cm->status, 201) << cm->body;
  EXPECT_EQ(Body(cm)["conversation_id"], id);
  auto d = Post("/v1/deployments",
                R"({"environment":"prod","commit_sha":"abcdef0123456789abcdef0123456789abcdef01"})",
                ingest_);
  ASSERT_EQ(d->status, 201) << d->body;
  EXPECT_EQ(Body(d)["conversation_id"], id);  // inherited from the commit
  std::string dep = Body(d)["deployment_id"];
  auto p = client_->Patch(("/v1/deployments/" + dep).c_str(), Auth(ingest_),
                          R"({"status":"succeeded","attributes":{"url":"https://x"}})",
                          "application/json");
  ASSERT_EQ(p->status, 200) << p->body;
  EXPECT_EQ(Body(p)["status"], "succeeded");
  auto end = Post("/v1/conversations/" + id + "/end", "", ingest_);
  ASSERT_EQ(end->status, 200) << end->body;

  Json trace = Body(Get("/v1/conversations/" + id + "/trace", viewer_));
  EXPECT_EQ(trace["conversation"]["status"], "ended");
  ASSERT_EQ(trace["commands"].size(), 1u);
  EXPECT_EQ(trace["commands"][0]["argv"][1], "commit");
  ASSERT_EQ(trace["commits"].size(), 1u);
  EXPECT_EQ(trace["commits"][0]["sha"], "abcdef0123456789abcdef0123456789abcdef01");
  EXPECT_EQ(trace["commits"][0]["trailer"], id);
  ASSERT_EQ(trace["deployments"].size(), 1u);
  EXPECT_EQ(trace["deployments"][0]["status"], "succeeded");
  auto dup = Post("/v1/conversations", Json{{"id", id}}.dump(), ingest_);
  EXPECT_EQ(dup->status, 409);
}

TEST_F(ServerTest, MetricsExposeRequestsAndExemplars) {
  auto r = Post("/v1/openclaw/events", R"({"hook":"session_start","ctx":{"sessionKey":"k","sessionId":"s"}})",
                ingest_);
  ASSERT_EQ(r->status, 200);
  std::string hex = Uuid::Parse(Body(r)["conversation_id"].get<std::string>())->ToHex();
  Post("/v1/openclaw/events", "nope", ingest_);
  auto m = client_->Get("/metrics");
  ASSERT_EQ(m->status, 200);
  EXPECT_THAT(m->get_header_value("Content-Type"), HasSubstr("text/plain"));
  EXPECT_THAT(m->body, HasSubstr("clawback_http_requests_total{route=\"/v1/openclaw/events\",method=\"POST\",code=\"200\"} 1"));
  EXPECT_THAT(m->body, HasSubstr("clawback_http_requests_total{route=\"/v1/openclaw/events\",method=\"POST\",code=\"400\"} 1"));
  EXPECT_THAT(m->body, HasSubstr("clawback_build_info{version=\""));
  EXPECT_THAT(m->body, HasSubstr("clawback_ingest_events_stored_total 1"));
  EXPECT_THAT(m->body, HasSubstr("clawback_ledger_events 1"));
  EXPECT_THAT(m->body, HasSubstr("clawback_ledger_size_bytes "));
  auto om = client_->Get("/metrics", {{"Accept", "application/openmetrics-text; version=1.0.0"}});
  EXPECT_THAT(om->get_header_value("Content-Type"), HasSubstr("application/openmetrics-text"));
  EXPECT_THAT(om->body, HasSubstr("# {trace_id=\"" + hex + "\"}"));
  EXPECT_THAT(om->body, HasSubstr("# EOF"));
}

TEST_F(ServerTest, MetricsCanRequireAToken) {
  ServerOptions o;
  o.metrics_require_token = true;
  StartWith(o);
  EXPECT_EQ(client_->Get("/metrics")->status, 401);
  EXPECT_EQ(Get("/metrics", viewer_)->status, 200);
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
}

TEST_F(ServerTest, HmacSignatureRequiredWhenConfigured) {
  ServerOptions o;
  o.hmac_secret = "webhook-secret";
  StartWith(o);
  std::string body = R"({"hook":"agent_end","ctx":{"sessionKey":"k"}})";
  auto unsigned_r = Post("/v1/openclaw/events", body, ingest_);
  ASSERT_EQ(unsigned_r->status, 401);
  EXPECT_EQ(Body(unsigned_r)["error"]["field"], "X-Clawback-Signature");
  httplib::Headers h = Auth(ingest_);
  h.emplace("X-Clawback-Signature", "sha256=" + HmacSha256Hex("webhook-secret", body));
  EXPECT_EQ(client_->Post("/v1/openclaw/events", h, body, "application/json")->status, 200);
  httplib::Headers bad = Auth(ingest_);
  bad.emplace("X-Clawback-Signature", "sha256=" + HmacSha256Hex("webhook-secret", body + " "));
  EXPECT_EQ(client_->Post("/v1/openclaw/events", bad, body, "application/json")->status, 401);
  EXPECT_EQ(EventCount(), 1);
}

TEST_F(ServerTest, ConcurrentClientsAreAllCommitted) {
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", server_->port());
      for (int i = 0; i < 50; ++i) {
        Json ev = {{"hook", "before_tool_call"},
                   {"event", {{"toolName", "read"}, {"toolCallId", "c" + std::to_string(i)}}},
                   {"ctx", {{"sessionKey", "agent:main:t" + std::to_string(t)}, {"sessionId", "s"}}}};
        auto r = c.Post("/v1/openclaw/events", Auth(ingest_), ev.dump(), "application/json");
        if (r && r->status == 200) ++ok;
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(EventCount(), 200);
  auto list = Body(Get("/v1/conversations", viewer_));
  EXPECT_EQ(list["conversations"].size(), 4u);  // one per session key, no duplicates
}

// Sends raw bytes on a fresh connection and returns the response that comes back within
// `timeout_s` (head and Content-Length body), or what arrived by then.
std::string RawExchange(int port, const std::string& request, int timeout_s) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)!::write(fd, request.data(), request.size());
  std::string got;
  char buf[4096];
  ssize_t n;
  // The head, then as much body as its Content-Length says.
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    got.append(buf, static_cast<size_t>(n));
    size_t head = got.find("\r\n\r\n");
    if (head == std::string::npos) continue;
    size_t cl = got.find("Content-Length: ");
    size_t body = cl == std::string::npos || cl > head ? 0 : std::stoul(got.substr(cl + 16));
    if (got.size() >= head + 4 + body) break;
  }
  ::close(fd);
  return got;
}

// Issue 12, item 6.
TEST_F(ServerTest, APostWithoutABodyIsAnsweredAtOnce) {
  // No Content-Length, no chunked encoding, connection left open: the request has no body
  // (RFC 9112 6.3). The server waited for one until its 5 s read timeout.
  std::string req = "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + ingest_ + "\r\n\r\n";
  std::string got = RawExchange(server_->port(), req, 2);
  EXPECT_THAT(got, HasSubstr("HTTP/1.1 400")) << got;
  // Content-Length: 0 likewise.
  auto zero = Post("/v1/events", "", ingest_);
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->status, 400);
  EXPECT_THAT(Body(zero)["error"]["message"].get<std::string>(), HasSubstr("empty"));
}

TEST_F(ServerTest, TheBodyLimitIsTheConfiguredOneWhateverTheContentType) {
  ServerOptions o;
  o.max_body_bytes = 64 * 1024;
  StartWith(o);
  std::string pad(20000, 'x');
  std::string body = R"({"kind":"note","attributes":{"pad":")" + pad + "\"}}";
  // curl -d sends application/x-www-form-urlencoded; httplib capped those at 8 KiB and
  // said the limit was max_body_bytes.
  for (const char* type : {"application/json", "application/x-www-form-urlencoded", "text/plain", ""}) {
    SCOPED_TRACE(type);
    auto r = client_->Post("/v1/events", Auth(ingest_), body, type);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
  }
  std::string big = R"({"kind":"note","attributes":{"pad":")" + std::string(70000, 'x') + "\"}}";
  for (const char* type : {"application/json", "application/x-www-form-urlencoded"}) {
    SCOPED_TRACE(type);
    auto r = client_->Post("/v1/events", Auth(ingest_), big, type);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_THAT(Body(r)["error"]["message"].get<std::string>(), HasSubstr("65536-byte limit"));
  }
  // A chunked body over the limit is cut off at the limit, not read to its end.
  std::string chunked = "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + ingest_ +
                        "\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n";
  for (int i = 0; i < 3; ++i) chunked += "8000\r\n" + std::string(0x8000, ' ') + "\r\n";
  std::string got = RawExchange(server_->port(), chunked, 5);
  EXPECT_THAT(got, HasSubstr("HTTP/1.1 413")) << got.substr(0, 200);
  EXPECT_THAT(got, HasSubstr("65536-byte limit"));
}

TEST_F(ServerTest, AMethodARouteDoesNotTakeIs405) {
  auto get = Get("/v1/events", viewer_);
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->get_header_value("Allow"), "POST");
  EXPECT_THAT(Body(get)["error"]["message"].get<std::string>(), HasSubstr("GET is not allowed on /v1/events"));
  auto put = client_->Put("/v1/deployments/0190f0c2-a1b2-7c3d-8e9f-001122334455", Auth(ingest_), "{}",
                          "application/json");
  EXPECT_EQ(put->status, 405);
  EXPECT_EQ(put->get_header_value("Allow"), "PATCH");
  auto post = Post("/v1/conversations/0190f0c2-a1b2-7c3d-8e9f-001122334455/trace", "{}", ingest_);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
  auto conversations = client_->Delete("/v1/conversations", Auth(ingest_));
  EXPECT_EQ(conversations->status, 405);
  EXPECT_EQ(conversations->get_header_value("Allow"), "POST, GET, HEAD");
  EXPECT_EQ(Get("/v1/nowhere", viewer_)->status, 404);
}

// Issue 12, item 2: a second server on a port in use bound too (SO_REUSEPORT) and took
// most of the first one's requests.
TEST_F(ServerTest, APortInUseIsRefused) {
  ServerOptions o;
  o.listen = "127.0.0.1:" + std::to_string(server_->port());
  IngestServer second(ledger_.get(), o);
  Status st = second.Start();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_THAT(st.message(), HasSubstr("127.0.0.1:" + std::to_string(server_->port())));
  EXPECT_THAT(st.message(), HasSubstr("already in use"));
  EXPECT_EQ(client_->Get("/healthz")->status, 200);
}

TEST(ListenAddress, Parse) {
  std::string h;
  int p = -1;
  EXPECT_TRUE(ParseListenAddress("127.0.0.1:18800", &h, &p).ok());
  EXPECT_EQ(h, "127.0.0.1");
  EXPECT_EQ(p, 18800);
  EXPECT_TRUE(ParseListenAddress("[::1]:0", &h, &p).ok());
  EXPECT_EQ(h, "::1");
  EXPECT_TRUE(ParseListenAddress(":9", &h, &p).ok());
  EXPECT_EQ(h, "127.0.0.1");
  EXPECT_FALSE(ParseListenAddress("localhost", &h, &p).ok());
  EXPECT_FALSE(ParseListenAddress("h:99999", &h, &p).ok());
  EXPECT_FALSE(ParseListenAddress("h:x", &h, &p).ok());
}

}  // namespace
}  // namespace clawback::ingest
