#include "http/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

#include "common/testing/status_matchers.h"

namespace clawback::http {
namespace {

// A real HTTP server on a loopback port of its own.
class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/echo", [](const httplib::Request& req, httplib::Response& res) {
      std::string q;
      for (const auto& [k, v] : req.params) q += k + "=" + v + ";";
      res.set_header("X-Query", q);
      res.set_header("X-Auth", req.get_header_value("Authorization"));
      res.set_content("hello", "text/plain");
    });
    server_.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.status = 201;
      res.set_content(req.get_header_value("Content-Type") + "|" + req.body, "text/plain");
    });
    server_.Put("/put", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("len=" + std::to_string(req.body.size()) + " type=" +
                          req.get_header_value("Content-Type"),
                      "text/plain");
    });
    server_.Patch("/patch", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("patched " + req.body, "text/plain");
    });
    server_.Get("/port", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      ports_.insert(req.remote_port);
      res.set_content("ok", "text/plain");
    });
    server_.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      res.set_content("late", "text/plain");
    });
    server_.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content("no such thing", "text/plain");
    });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(10000, 'x'), "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::set<int> ports_;
};

TEST_F(ServerFixture, GetWithQueryAndLowerCasedHeaders) {
  ClientOptions o;
  o.bearer_token = "s3cret";
  auto client = NewClient(o);
  ASSERT_OK_AND_ASSIGN(Response r,
                       client->Get(Url(WithQuery("/echo", {{"q", "a b&c"}, {"limit", "5"}}))));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.Header("x-query"), "limit=5;q=a b&c;");
  EXPECT_EQ(r.Header("X-Auth"), "Bearer s3cret");
  EXPECT_EQ(r.Header("content-type"), "text/plain");
  EXPECT_EQ(r.Header("x-not-there"), "");
}

TEST_F(ServerFixture, PostSendsBodyAndContentType) {
  auto client = NewClient();
  ASSERT_OK_AND_ASSIGN(Response r, client->Post(Url("/echo"), R"({"a":1})", "application/json"));
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"(application/json|{"a":1})");
}

TEST_F(ServerFixture, PutWithEmptyBodyDoesNotReadStdin) {
  auto client = NewClient();
  ASSERT_OK_AND_ASSIGN(Response r, client->Send({"PUT", Url("/put"), {}, {}, {}}));
  EXPECT_EQ(r.body, "len=0 type=application/octet-stream");
  std::string data(100000, 'z');
  ASSERT_OK_AND_ASSIGN(r, client->Send({"PUT", Url("/put"), {}, {}, data}));
  EXPECT_EQ(r.body, "len=100000 type=application/octet-stream");
}

TEST_F(ServerFixture, PatchAndHead) {
  auto client = NewClient();
  ASSERT_OK_AND_ASSIGN(Response r, client->Send({"PATCH", Url("/patch"), {}, "x", {}}));
  EXPECT_EQ(r.body, "patched x");
  ASSERT_OK_AND_ASSIGN(r, client->Send({"HEAD", Url("/big"), {}, {}, {}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.Header("content-length"), "10000");
}

TEST_F(ServerFixture, AnyStatusIsAResponse) {
  auto client = NewClient();
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(Url("/missing")));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "no such thing");
}

TEST_F(ServerFixture, ConnectionsAreReused) {
  auto client = NewClient();
  for (int i = 0; i < 5; ++i) ASSERT_OK(client->Get(Url("/port")).status());
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(ports_.size(), 1u);
}

TEST_F(ServerFixture, SharedByThreads) {
  auto client = NewClient();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto r = client->Get(Url("/echo"));
        if (r.ok() && r->body == "hello") ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
}

TEST_F(ServerFixture, TimeoutIsUnavailable) {
  ClientOptions o;
  o.timeout = std::chrono::milliseconds(200);
  auto client = NewClient(o);
  auto r = client->Get(Url("/slow"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("GET " + Url("/slow") + ": "), std::string::npos)
      << r.status().message();
}

TEST_F(ServerFixture, MaxBodyKeepsTheStart) {
  ClientOptions o;
  o.max_body = 100;
  auto client = NewClient(o);
  ASSERT_OK_AND_ASSIGN(Response r, client->Get(Url("/big")));
  EXPECT_EQ(r.body, std::string(100, 'x'));
}

// A port nothing listens on: bind one, note it, close it.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

TEST(HttpClient, RefusedConnectionIsUnavailable) {
  auto client = NewClient();
  const std::string url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/x";
  auto r = client->Get(url);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("GET " + url + ": "), std::string::npos);
}

TEST(HttpClient, OnlyHttpSchemes) {
  auto client = NewClient();
  EXPECT_EQ(client->Get("file:///etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client->Get("127.0.0.1:80/").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsHttpUrl("https://example.org"));
  EXPECT_FALSE(IsHttpUrl("ftp://example.org"));
}

// A server that promises 10 bytes and sends 3: the exchange failed, it is not a short body.
TEST(HttpClient, BodyCutShortIsUnavailable) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::thread peer([fd] {
    int c = ::accept(fd, nullptr, nullptr);
    char buf[4096];
    (void)::recv(c, buf, sizeof buf, 0);
    const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    (void)::send(c, reply, sizeof reply - 1, 0);
    ::close(c);
  });
  auto client = NewClient();
  auto r = client->Get("http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/");
  peer.join();
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST(HttpClient, WithQueryEncodes) {
  EXPECT_EQ(WithQuery("/v1/x", {}), "/v1/x");
  EXPECT_EQ(WithQuery("/v1/x", {{"since", "2026-01-01T00:00:00+01:00"}, {"q", "a b"}}),
            "/v1/x?q=a%20b&since=2026-01-01T00%3A00%3A00%2B01%3A00");
  EXPECT_EQ(WithQuery("/v1/x?a=1", {{"b", "2"}}), "/v1/x?a=1&b=2");
}

}  // namespace
}  // namespace clawback::http
