// S3Backend against a real S3 server: npm's s3rver over HTTPS with a self-signed
// certificate made at test time (tests/support/s3rver-start). (s3rver checks the access
// key but not SigV4 signatures; sigv4_test.cc checks those against AWS's examples and
// s3_backend_test.cc checks that what we send is what we signed.) The conformance suite runs
// path-style with a key prefix and a 7-key list page (so listing needs continuation
// tokens), and virtual-host style; then restic 0.14 writes a repository into a bucket
// and S3Backend reads it.
#include <gtest/gtest.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>

#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "store/backend/backend_conformance_suite.h"
#include "store/backend/s3_backend.h"

namespace clawback::store {
namespace {

struct S3Server {
  std::map<std::string, std::string> env;  // what s3rver-start printed
  std::string error;
  std::string Get(const std::string& k) const {
    auto it = env.find(k);
    return it == env.end() ? std::string() : it->second;
  }
};

std::string SourceDir() {
  if (const char* s = std::getenv("CLAWBACK_SOURCE_DIR")) return s;
  std::string f = __FILE__;  // <src>/src/store/backend/s3_integration_test.cc
  return f.substr(0, f.rfind("/src/store/backend/"));
}

// One s3rver per machine and source tree, shared by every test process (each test uses
// its own bucket); it stops by itself when idle.
const S3Server& Server() {
  static const S3Server server = [] {
    S3Server s;
    std::string src = SourceDir();
    std::string dir =
        "/tmp/clawback-s3rver-" + std::to_string(::getuid()) + "-" + Sha256Hex(src).substr(0, 12);
    std::string cmd = "'" + src + "/tests/support/s3rver-start' --shared '" + dir + "' 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) {
      s.error = "cannot run " + cmd;
      return s;
    }
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    int rc = ::pclose(p);
    size_t pos = 0;
    while (pos < out.size()) {
      size_t nl = out.find('\n', pos);
      std::string line = out.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      pos = nl == std::string::npos ? out.size() : nl + 1;
      size_t eq = line.find('=');
      if (eq != std::string::npos && line.find(' ') > eq)
        s.env[line.substr(0, eq)] = line.substr(eq + 1);
    }
    if (rc != 0 || s.Get("S3_PORT").empty()) s.error = cmd + " failed:\n" + out;
    return s;
  }();
  return server;
}

std::string NewBucket() {
  unsigned char r[6];
  EXPECT_EQ(RAND_bytes(r, sizeof(r)), 1);
  std::string s = "cb-";
  for (unsigned char c : r) {
    static const char kHex[] = "0123456789abcdef";
    s += kHex[c >> 4];
    s += kHex[c & 15];
  }
  return s;
}

S3Options ServerOptions() {
  const S3Server& srv = Server();
  S3Options o;
  o.access_key = srv.Get("AWS_ACCESS_KEY_ID");
  o.secret_key = srv.Get("AWS_SECRET_ACCESS_KEY");
  o.ca_file = srv.Get("S3_CA_FILE");
  o.stall_timeout = std::chrono::seconds(20);
  return o;
}

BackendPtr MakeS3(bool vhost) {
  const S3Server& srv = Server();
  if (!srv.error.empty()) {
    ADD_FAILURE() << "s3rver did not start: " << srv.error;
    return nullptr;
  }
  const std::string port = srv.Get("S3_PORT");
  S3Options o = ServerOptions();
  std::string url;
  if (vhost) {
    o.virtual_host = true;
    o.connect_to = {"::127.0.0.1:" + port};  // BUCKET.s3.test:PORT -> 127.0.0.1:PORT
    url = "s3:https://s3.test:" + port + "/" + NewBucket();
  } else {
    o.max_keys = 7;
    url = "s3:https://127.0.0.1:" + port + "/" + NewBucket() + "/repo/prefix";
  }
  auto b = S3Backend::Open(url, o);
  if (!b.ok()) {
    ADD_FAILURE() << b.status().ToString();
    return nullptr;
  }
  return std::move(b).value();
}

INSTANTIATE_TEST_SUITE_P(
    S3rver, BackendConformanceTest,
    ::testing::Values(BackendFactory{"path_style", [] { return MakeS3(false); }},
                      BackendFactory{"virtual_host", [] { return MakeS3(true); }}),
    BackendFactoryName);

std::string Url(const std::string& bucket) {
  return "s3:https://127.0.0.1:" + Server().Get("S3_PORT") + "/" + bucket;
}

TEST(S3rver, ObjectKeysFollowResticsLayoutUnderThePrefix) {
  ASSERT_TRUE(Server().error.empty()) << Server().error;
  auto b = S3Backend::Open(Url("layout-bucket") + "/p", ServerOptions());
  ASSERT_OK(b);
  std::string id = Sha256Hex("x");
  EXPECT_EQ((*b)->KeyOf(FileType::kPack, id), "p/data/" + id.substr(0, 2) + "/" + id);
  EXPECT_EQ((*b)->KeyOf(FileType::kConfig, "config"), "p/config");
  EXPECT_EQ((*b)->KeyOf(FileType::kSnapshot, id), "p/snapshots/" + id);
}

TEST(S3rver, UnknownAccessKeyIsUnauthenticated) {
  ASSERT_TRUE(Server().error.empty()) << Server().error;
  S3Options o = ServerOptions();
  o.access_key = "NOT-A-KEY";
  auto b = S3Backend::Open(Url(Server().Get("S3_BUCKET")), o);
  ASSERT_OK(b);
  // A GET's error body names the cause.
  auto listed = (*b)->List(FileType::kSnapshot);
  EXPECT_EQ(listed.status().code(), StatusCode::kUnauthenticated) << listed.status().ToString();
  EXPECT_NE(listed.status().message().find("InvalidAccessKeyId"), std::string::npos);
  // A HEAD's answer has no body: a plain 403.
  Status s = (*b)->Create();
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
}

TEST(S3rver, UntrustedCertificateIsRefusedWithAHint) {
  ASSERT_TRUE(Server().error.empty()) << Server().error;
  S3Options o = ServerOptions();
  o.ca_file = "/etc/ssl/certs/ca-certificates.crt";  // the system CAs don't know s3rver's
  if (::access(o.ca_file.c_str(), R_OK) != 0) GTEST_SKIP() << "no system CA bundle";
  auto b = S3Backend::Open(Url(NewBucket()), o);
  ASSERT_OK(b);
  Status s = (*b)->Create();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("CA file"), std::string::npos);
}

TEST(S3rver, OpenBackendUsesEnvironmentCredentialsAndCaFile) {
  ASSERT_TRUE(Server().error.empty()) << Server().error;
  ::setenv("AWS_ACCESS_KEY_ID", Server().Get("AWS_ACCESS_KEY_ID").c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", Server().Get("AWS_SECRET_ACCESS_KEY").c_str(), 1);
  ::setenv("CLAWBACK_S3_CA_FILE", Server().Get("S3_CA_FILE").c_str(), 1);
  auto b = OpenBackend(Url(NewBucket()) + "/via-open");
  ASSERT_OK(b);
  ASSERT_OK((*b)->Create());
  std::string id = Sha256Hex("hello");
  ASSERT_OK((*b)->Save(FileType::kIndex, id, "hello"));
  EXPECT_EQ(*(*b)->Load(FileType::kIndex, id, 1, 3), "ell");
}

// restic 0.14 writes a repository into a bucket; S3Backend sees all of it.
TEST(S3rver, ReadsARepositoryResticWrote) {
  ASSERT_TRUE(Server().error.empty()) << Server().error;
  test::TempDir tmp("clawback-s3-restic");
  const std::string dir = tmp.str();
  const std::string bucket = NewBucket();
  {
    FILE* f = std::fopen((dir + "/file.txt").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("restic wrote this through s3rver\n", f);
    std::fclose(f);
  }
  // s3rver needs the bucket to exist before restic's init.
  auto b = S3Backend::Open(Url(bucket) + "/restic-repo", ServerOptions());
  ASSERT_OK(b);
  ASSERT_OK((*b)->Create());
  const std::string env = "AWS_ACCESS_KEY_ID=" + Server().Get("AWS_ACCESS_KEY_ID") +
                          " AWS_SECRET_ACCESS_KEY=" + Server().Get("AWS_SECRET_ACCESS_KEY") +
                          " RESTIC_PASSWORD=pw RESTIC_CACHE_DIR=" + dir + "/cache ";
  const std::string repo =
      " -r " + Url(bucket) + "/restic-repo --cacert " + Server().Get("S3_CA_FILE") + " --no-cache ";
  const std::string log = " >>" + dir + "/restic.log 2>&1";
  ASSERT_EQ(std::system((env + "restic" + repo + "init" + log).c_str()), 0);
  ASSERT_EQ(std::system((env + "restic" + repo + "backup " + dir + "/file.txt" + log).c_str()), 0);

  EXPECT_TRUE(*(*b)->Exists());
  EXPECT_EQ((*b)->List(FileType::kKey)->size(), 1u);
  EXPECT_EQ((*b)->List(FileType::kSnapshot)->size(), 1u);
  EXPECT_GE((*b)->List(FileType::kIndex)->size(), 1u);
  auto packs = (*b)->List(FileType::kPack);
  ASSERT_OK(packs);
  EXPECT_GE(packs->size(), 2u);  // a data pack and a tree pack
  for (const FileInfo& p : *packs) {
    auto whole = (*b)->Load(FileType::kPack, p.name);
    ASSERT_OK(whole);
    EXPECT_EQ(static_cast<int64_t>(whole->size()), p.size);
    EXPECT_EQ(Sha256Hex(*whole), p.name);  // names are hashes of the stored bytes
  }
}

}  // namespace
}  // namespace clawback::store
