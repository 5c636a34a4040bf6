// S3Backend against an in-process fake S3 (cpp-httplib on 127.0.0.1, port chosen by the
// kernel) that checks every request independently: the body's SHA-256 against
// x-amz-content-sha256, and the signature recomputed from what actually arrived (method,
// path, query, signed headers). Also: retries on 503/429, stalls, refused connections,
// continuation tokens with characters that need escaping, virtual-host addressing.
#include "store/backend/s3_backend.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "store/backend/retry_backend.h"
#include "store/backend/sigv4.h"

namespace clawback::store {
namespace {

constexpr char kAccess[] = "AKIDTEST";
constexpr char kSecret[] = "secret/with+chars";

class FakeS3 {
 public:
  FakeS3() {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      Handle(req, res);
    };
    srv_.Get(".*", handler);
    srv_.Put(".*", handler);
    srv_.Delete(".*", handler);
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
    while (!srv_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeS3() {
    srv_.stop();
    thread_.join();
  }
  int port() const { return port_; }

  // Faults.
  std::atomic<int> fail_next{0};
  std::atomic<int> fail_status{503};
  std::string fail_code = "SlowDown";  // set before arming fail_next
  std::atomic<int> delay_ms{0};
  std::atomic<int> page_size{1000};

  std::atomic<int> requests{0};
  std::mutex mu;
  std::vector<std::string> problems;           // GUARDED_BY(mu): verification failures
  std::vector<std::string> hosts;              // GUARDED_BY(mu)
  std::vector<std::string> paths;              // GUARDED_BY(mu)
  std::map<std::string, std::string> objects;  // GUARDED_BY(mu): key -> bytes

 private:
  void Problem(std::string p) {
    std::lock_guard<std::mutex> lock(mu);
    problems.push_back(std::move(p));
  }

  void Verify(const httplib::Request& req) {
    const std::string what = req.method + " " + req.path;
    if (Sha256Hex(req.body) != req.get_header_value("x-amz-content-sha256")) {
      Problem(what + ": x-amz-content-sha256 is not the SHA-256 of the body");
    }
    const std::string auth = req.get_header_value("Authorization");
    const std::string sh = "SignedHeaders=", sg = "Signature=", cr = "Credential=";
    size_t a = auth.find(sh), b = auth.find(sg), c = auth.find(cr);
    if (!auth.starts_with("AWS4-HMAC-SHA256 ") || a == std::string::npos ||
        b == std::string::npos || c == std::string::npos) {
      Problem(what + ": bad Authorization " + auth);
      return;
    }
    std::string credential = auth.substr(c + cr.size(), auth.find(',', c) - c - cr.size());
    if (!credential.starts_with(std::string(kAccess) + "/"))
      Problem(what + ": credential " + credential);
    std::string signed_headers = auth.substr(a + sh.size(), auth.find(',', a) - a - sh.size());
    std::string signature = auth.substr(b + sg.size());
    SigV4Request r;
    r.method = req.method;
    r.canonical_uri = UriEncode(req.path, true);
    std::vector<std::pair<std::string, std::string>> params(req.params.begin(), req.params.end());
    r.canonical_query = CanonicalQuery(params);
    size_t pos = 0;
    while (pos <= signed_headers.size()) {
      size_t semi = signed_headers.find(';', pos);
      if (semi == std::string::npos) semi = signed_headers.size();
      std::string name = signed_headers.substr(pos, semi - pos);
      r.headers.emplace_back(name, req.get_header_value(name.c_str()));
      pos = semi + 1;
    }
    for (const char* must : {"host", "x-amz-date", "x-amz-content-sha256"}) {
      if (signed_headers.find(must) == std::string::npos)
        Problem(what + ": " + must + " not signed");
    }
    r.payload_hash = req.get_header_value("x-amz-content-sha256");
    SigV4Signature want = SignV4(r, SigV4Credentials{kAccess, kSecret, "us-east-1", "s3"},
                                 req.get_header_value("x-amz-date"));
    if (want.signature != signature) Problem(what + ": signature mismatch");
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    requests++;
    Verify(req);
    {
      std::lock_guard<std::mutex> lock(mu);
      hosts.push_back(req.get_header_value("Host"));
      paths.push_back(req.path);
    }
    if (int d = delay_ms.load()) std::this_thread::sleep_for(std::chrono::milliseconds(d));
    if (fail_next.load() > 0) {
      fail_next--;
      res.status = fail_status.load();
      res.set_content("<Error><Code>" + fail_code +
                          "</Code><Message>Please reduce your request rate.</Message></Error>",
                      "application/xml");
      return;
    }
    // Path-style "/bucket/key" or virtual-host "/key".
    std::string path = req.path;
    std::string key;
    if (req.get_header_value("Host").starts_with("bkt.")) {
      key = path.substr(1);
    } else {
      size_t slash = path.find('/', 1);
      key = slash == std::string::npos ? "" : path.substr(slash + 1);
    }
    std::lock_guard<std::mutex> lock(mu);
    if (key.empty()) {
      if (req.method == "GET" && req.has_param("list-type")) return List(req, res);
      res.status = 200;  // HEAD or PUT bucket
      return;
    }
    auto it = objects.find(key);
    if (req.method == "PUT") {
      objects[key] = req.body;
      res.status = 200;
    } else if (req.method == "DELETE") {
      objects.erase(key);
      res.status = 204;
    } else if (it == objects.end()) {
      res.status = 404;
      if (req.method == "GET") {
        res.set_content("<Error><Code>NoSuchKey</Code></Error>", "application/xml");
      }
    } else {
      res.set_content(it->second, "application/octet-stream");  // httplib applies Range
    }
  }

  // ListObjectsV2 whose tokens need URL and XML escaping: "tok&/+= <index>".
  void List(const httplib::Request& req, httplib::Response& res) {
    const std::string prefix = req.get_param_value("prefix");
    size_t start = 0;
    if (req.has_param("continuation-token")) {
      std::string tok = req.get_param_value("continuation-token");
      if (!tok.starts_with("tok&/+= ")) {
        res.status = 400;
        return;
      }
      start = std::stoul(tok.substr(8));
    }
    std::vector<std::pair<std::string, size_t>> keys;
    for (const auto& [k, v] : objects) {
      if (k.starts_with(prefix)) keys.emplace_back(k, v.size());
    }
    std::string xml = "<?xml version=\"1.0\"?><ListBucketResult><Name>bkt</Name>";
    size_t end = std::min(keys.size(), start + static_cast<size_t>(page_size.load()));
    for (size_t i = start; i < end; ++i) {
      xml += "<Contents><Key>" + keys[i].first + "</Key><LastModified>x</LastModified><Size>" +
             std::to_string(keys[i].second) + "</Size></Contents>";
    }
    if (end < keys.size()) {
      xml += "<IsTruncated>true</IsTruncated><NextContinuationToken>tok&amp;/+= " +
             std::to_string(end) + "</NextContinuationToken>";
    } else {
      xml += "<IsTruncated>false</IsTruncated>";
    }
    xml += "</ListBucketResult>";
    res.status = 200;
    res.set_content(xml, "application/xml");
  }

  httplib::Server srv_;
  std::thread thread_;
  int port_ = 0;
};

S3Options Options() {
  S3Options o;
  o.access_key = kAccess;
  o.secret_key = kSecret;
  o.connect_timeout = std::chrono::milliseconds(2'000);
  o.stall_timeout = std::chrono::seconds(1);
  return o;
}

std::unique_ptr<S3Backend> Open(const FakeS3& fake, const std::string& rest = "/bkt/pre",
                                S3Options o = Options()) {
  auto b = S3Backend::Open("s3:http://127.0.0.1:" + std::to_string(fake.port()) + rest, o);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? std::move(b).value() : nullptr;
}

TEST(S3Backend, EveryRequestIsSignedOverWhatIsSent) {
  FakeS3 fake;
  auto b = Open(fake);
  ASSERT_TRUE(b->Create().ok());
  std::string data = "payload bytes \x01\x02";
  std::string id = Sha256Hex(data);
  ASSERT_TRUE(b->Save(FileType::kPack, id, data).ok());
  EXPECT_EQ(*b->Load(FileType::kPack, id), data);
  EXPECT_EQ(*b->Load(FileType::kPack, id, 3, 4), "load");
  EXPECT_EQ(b->Stat(FileType::kPack, id)->size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(b->List(FileType::kPack)->size(), 1u);
  ASSERT_TRUE(b->Remove(FileType::kPack, id).ok());
  std::lock_guard<std::mutex> lock(fake.mu);
  EXPECT_TRUE(fake.problems.empty()) << ::testing::PrintToString(fake.problems);
  EXPECT_EQ(fake.objects.size(), 0u);
  EXPECT_NE(std::find(fake.paths.begin(), fake.paths.end(),
                      "/bkt/pre/data/" + id.substr(0, 2) + "/" + id),
            fake.paths.end());
}

TEST(S3Backend, TheFakeNoticesABadSignature) {
  FakeS3 fake;
  S3Options o = Options();
  o.secret_key = "not the secret the fake knows";
  auto b = Open(fake, "/bkt", o);
  ASSERT_TRUE(b->Create().ok());  // the fake answers anyway, but records the problem
  std::lock_guard<std::mutex> lock(fake.mu);
  ASSERT_EQ(fake.problems.size(), 1u);
  EXPECT_NE(fake.problems[0].find("signature mismatch"), std::string::npos);
}

TEST(S3Backend, ServerErrorsAreUnavailableWithS3sMessage) {
  FakeS3 fake;
  auto b = Open(fake);
  fake.fail_next = 1;
  auto got = b->List(FileType::kIndex);
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(got.status().message().find("HTTP 503 SlowDown: Please reduce your request rate."),
            std::string::npos)
      << got.status().ToString();
  fake.fail_next = 1;
  fake.fail_status = 429;
  EXPECT_EQ(b->List(FileType::kIndex).status().code(), StatusCode::kUnavailable);
  fake.fail_code = "InvalidArgument";
  fake.fail_next = 1;
  fake.fail_status = 400;
  EXPECT_EQ(b->List(FileType::kIndex).status().code(), StatusCode::kFailedPrecondition);
}

TEST(S3Backend, RetryBackendRidesOut503And429) {
  FakeS3 fake;
  RetryOptions ro;
  ro.initial_backoff = std::chrono::milliseconds(1);
  RetryBackend b(Open(fake), ro);
  ASSERT_TRUE(b.Create().ok());
  std::string id = Sha256Hex("x");
  ASSERT_TRUE(b.Save(FileType::kSnapshot, id, "x").ok());
  fake.requests = 0;
  fake.fail_next = 2;
  auto got = b.Load(FileType::kSnapshot, id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "x");
  EXPECT_EQ(fake.requests.load(), 3);
  fake.fail_status = 429;
  fake.fail_next = 3;
  EXPECT_TRUE(b.List(FileType::kSnapshot).ok());
  EXPECT_EQ(b.retries(), 5);
}

TEST(S3Backend, StalledServerIsATimeout) {
  FakeS3 fake;
  auto b = Open(fake);
  fake.delay_ms = 2'500;
  auto start = std::chrono::steady_clock::now();
  auto got = b->Stat(FileType::kKey, Sha256Hex("k"));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable) << got.status().ToString();
  EXPECT_LT(took, std::chrono::milliseconds(2'400));
}

TEST(S3Backend, RefusedConnectionIsUnavailable) {
  int port;
  {
    FakeS3 gone;
    port = gone.port();
  }
  auto b = S3Backend::Open("s3:http://127.0.0.1:" + std::to_string(port) + "/bkt", Options());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->Create().code(), StatusCode::kUnavailable);
}

TEST(S3Backend, ListFollowsEscapedContinuationTokens) {
  FakeS3 fake;
  fake.page_size = 3;
  auto b = Open(fake, "/bkt");
  std::set<std::string> saved;
  for (int i = 0; i < 10; ++i) {
    std::string data = "index " + std::to_string(i);
    saved.insert(Sha256Hex(data));
    ASSERT_TRUE(b->Save(FileType::kIndex, Sha256Hex(data), data).ok());
  }
  ASSERT_TRUE(b->Save(FileType::kSnapshot, Sha256Hex("s"), "s").ok());
  auto listed = b->List(FileType::kIndex);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::set<std::string> names;
  for (const auto& f : *listed) names.insert(f.name);
  EXPECT_EQ(names, saved);
  std::lock_guard<std::mutex> lock(fake.mu);
  EXPECT_TRUE(fake.problems.empty()) << ::testing::PrintToString(fake.problems);
}

TEST(S3Backend, VirtualHostPutsTheBucketInTheHostName) {
  FakeS3 fake;
  S3Options o = Options();
  o.virtual_host = true;
  const std::string port = std::to_string(fake.port());
  o.connect_to = {"bkt.s3.test:" + port + ":127.0.0.1:" + port};
  auto b = S3Backend::Open("s3:http://s3.test:" + port + "/bkt", o);
  ASSERT_TRUE(b.ok());
  std::string id = Sha256Hex("k");
  ASSERT_TRUE((*b)->Save(FileType::kKey, id, "k").ok());
  EXPECT_EQ(*(*b)->Load(FileType::kKey, id), "k");
  std::lock_guard<std::mutex> lock(fake.mu);
  EXPECT_TRUE(fake.problems.empty()) << ::testing::PrintToString(fake.problems);
  ASSERT_FALSE(fake.hosts.empty());
  EXPECT_EQ(fake.hosts.back(), "bkt.s3.test:" + port);
  EXPECT_EQ(fake.paths.back(), "/keys/" + id);
  EXPECT_EQ(fake.objects.count("keys/" + id), 1u);
}

}  // namespace
}  // namespace clawback::store
