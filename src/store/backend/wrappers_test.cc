// FaultBackend and RetryBackend, and OpenBackend's URL forms.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <vector>

#include "store/backend/backend.h"
#include "store/backend/fault_backend.h"
#include "store/backend/mem_backend.h"
#include "store/backend/retry_backend.h"
#include "store/backend/s3_backend.h"
#include "store/backend/sigv4.h"

namespace clawback::store {
namespace {

using Op = FaultBackend::Op;
const std::string kA = Sha256Hex("a");
const std::string kB = Sha256Hex("b");

TEST(FaultBackend, FailNextFailsThatManyCallsThenPassesThrough) {
  MemBackend mem;
  FaultBackend f(&mem);
  f.FailNext(Op::kSave, Unavailable("injected"), 2);
  EXPECT_EQ(f.Save(FileType::kPack, kA, "a").code(), StatusCode::kUnavailable);
  EXPECT_EQ(f.Save(FileType::kPack, kA, "a").code(), StatusCode::kUnavailable);
  EXPECT_EQ(mem.FileCountForTest(), 0u);  // failed calls never reached the inner backend
  EXPECT_TRUE(f.Save(FileType::kPack, kA, "a").ok());
  EXPECT_EQ(f.Calls(Op::kSave), 3);
  EXPECT_TRUE(f.Load(FileType::kPack, kA).ok());
}

TEST(FaultBackend, FailEveryKthCallOfAnyOp) {
  MemBackend mem;
  FaultBackend f(&mem);
  ASSERT_TRUE(f.Save(FileType::kPack, kA, "a").ok());
  f.FailEvery(Op::kAny, IOError("disk"), 3);
  int failures = 0;
  for (int i = 0; i < 9; ++i) failures += f.Stat(FileType::kPack, kA).ok() ? 0 : 1;
  EXPECT_EQ(failures, 3);
}

TEST(FaultBackend, PartialWriteLeavesATornFileAndReportsIOError) {
  MemBackend mem;
  FaultBackend f(&mem);
  f.PartialWriteNext(3);
  Status s = f.Save(FileType::kPack, kA, "abcdefgh");
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_EQ(*mem.Load(FileType::kPack, kA), "abc");
  EXPECT_TRUE(f.Save(FileType::kPack, kB, "whole").ok());  // one-shot
  EXPECT_EQ(*mem.Load(FileType::kPack, kB), "whole");
}

TEST(FaultBackend, CrashAfterNOperationsStopsEverything) {
  MemBackend mem;
  FaultBackend f(&mem);
  f.CrashAfter(2);
  EXPECT_TRUE(f.Save(FileType::kPack, kA, "a").ok());
  EXPECT_FALSE(f.crashed());
  EXPECT_TRUE(f.Load(FileType::kPack, kA).ok());
  EXPECT_EQ(f.Save(FileType::kPack, kB, "b").code(), StatusCode::kUnavailable);
  EXPECT_TRUE(f.crashed());
  EXPECT_FALSE(f.List(FileType::kPack).ok());
  EXPECT_EQ(mem.FileCountForTest(), 1u);
  f.Recover();
  EXPECT_TRUE(f.Save(FileType::kPack, kB, "b").ok());
}

TEST(FaultBackend, CorruptLoadsFlipABit) {
  MemBackend mem;
  FaultBackend f(&mem);
  ASSERT_TRUE(f.Save(FileType::kPack, kA, "abcd").ok());
  f.CorruptLoads(true);
  auto got = f.Load(FileType::kPack, kA);
  ASSERT_TRUE(got.ok());
  EXPECT_NE(*got, "abcd");
  EXPECT_EQ(got->size(), 4u);
  f.Clear();
  EXPECT_EQ(*f.Load(FileType::kPack, kA), "abcd");
}

RetryOptions FastRetry(std::vector<std::chrono::milliseconds>* waits, int attempts = 5) {
  RetryOptions o;
  o.max_attempts = attempts;
  o.initial_backoff = std::chrono::milliseconds(100);
  o.max_backoff = std::chrono::milliseconds(1'000);
  o.jitter = 0;
  o.sleep = [waits](std::chrono::milliseconds d) { waits->push_back(d); };
  return o;
}

TEST(RetryBackend, RetriesUnavailableWithExponentialBackoff) {
  MemBackend mem;
  FaultBackend f(&mem);
  std::vector<std::chrono::milliseconds> waits;
  RetryBackend r(&f, FastRetry(&waits));
  ASSERT_TRUE(mem.Save(FileType::kPack, kA, "a").ok());
  f.FailNext(Op::kLoad, Unavailable("HTTP 503"), 3);
  auto got = r.Load(FileType::kPack, kA);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "a");
  EXPECT_EQ(f.Calls(Op::kLoad), 4);
  EXPECT_EQ(r.retries(), 3);
  using ms = std::chrono::milliseconds;
  EXPECT_EQ(waits, (std::vector<ms>{ms(100), ms(200), ms(400)}));
  EXPECT_EQ(r.BackoffFor(10), ms(1'000));  // capped
}

TEST(RetryBackend, GivesUpAfterMaxAttemptsAndSaysSo) {
  MemBackend mem;
  FaultBackend f(&mem);
  std::vector<std::chrono::milliseconds> waits;
  RetryBackend r(&f, FastRetry(&waits, 3));
  f.FailEvery(Op::kList, Unavailable("HTTP 500"), 1);
  auto got = r.List(FileType::kPack);
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(got.status().message().find("gave up after 3 attempts"), std::string::npos);
  EXPECT_EQ(f.Calls(Op::kList), 3);
}

TEST(RetryBackend, DoesNotRetryPermanentErrors) {
  MemBackend mem;
  FaultBackend f(&mem);
  std::vector<std::chrono::milliseconds> waits;
  RetryBackend r(&f, FastRetry(&waits));
  EXPECT_EQ(r.Load(FileType::kPack, kA).status().code(), StatusCode::kNotFound);
  f.FailNext(Op::kStat, PermissionDenied("403"), 1);
  EXPECT_EQ(r.Stat(FileType::kPack, kA).status().code(), StatusCode::kPermissionDenied);
  f.FailNext(Op::kSave, IOError("ENOSPC"), 1);
  EXPECT_EQ(r.Save(FileType::kPack, kA, "a").code(), StatusCode::kIOError);
  EXPECT_TRUE(waits.empty());
  EXPECT_EQ(r.Save(FileType::kPack, kB, "b").code(), StatusCode::kOk);
  EXPECT_EQ(r.Save(FileType::kPack, kB, "b").code(), StatusCode::kAlreadyExists);
}

// A backend whose Save stores the file and then loses the answer, once.
class LostAnswerBackend : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  Status Save(FileType t, const std::string& name, std::string_view data) override {
    RETURN_IF_ERROR(inner_->Save(t, name, data));
    if (lose_next_) {
      lose_next_ = false;
      return Unavailable("connection reset after upload");
    }
    return Status::Ok();
  }
  Status Remove(FileType t, const std::string& name) override {
    RETURN_IF_ERROR(inner_->Remove(t, name));
    if (lose_remove_) {
      lose_remove_ = false;
      return Unavailable("timeout after delete");
    }
    return Status::Ok();
  }
  bool lose_next_ = true;
  bool lose_remove_ = true;
};

TEST(RetryBackend, SaveAndRemoveAreIdempotentAcrossLostAnswers) {
  MemBackend mem;
  LostAnswerBackend lossy(&mem);
  std::vector<std::chrono::milliseconds> waits;
  RetryBackend r(&lossy, FastRetry(&waits));
  EXPECT_TRUE(r.Save(FileType::kPack, kA, "a").ok());
  EXPECT_EQ(*mem.Load(FileType::kPack, kA), "a");
  EXPECT_TRUE(r.Remove(FileType::kPack, kA).ok());
  EXPECT_EQ(mem.FileCountForTest(), 0u);
  EXPECT_EQ(r.retries(), 2);
}

TEST(OpenBackend, UrlForms) {
  auto local = OpenBackend("/tmp/clawback-open-test-repo");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ((*local)->Location(), "/tmp/clawback-open-test-repo");
  auto prefixed = OpenBackend("local:/tmp/clawback-open-test-repo");
  ASSERT_TRUE(prefixed.ok());
  EXPECT_EQ((*prefixed)->Location(), "/tmp/clawback-open-test-repo");
  EXPECT_EQ(OpenBackend("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenBackend("local:").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenBackend("sftp:host:/srv").status().code(), StatusCode::kInvalidArgument);

  BackendOptions o;
  o.s3_access_key = "AK";
  o.s3_secret_key = "SK";
  auto s3 = OpenBackend("s3:https://minio.example:9000/bucket/some/prefix/", o);
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  EXPECT_EQ((*s3)->Location(), "s3:https://minio.example:9000/bucket/some/prefix");
  EXPECT_EQ(OpenBackend("s3:https://host", o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenBackend("s3:ftp://host/b", o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenBackend("s3:https://host:99999/b", o).status().code(),
            StatusCode::kInvalidArgument);
  o.s3_ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(OpenBackend("s3:https://host/b", o).status().code(), StatusCode::kInvalidArgument);
}

TEST(OpenBackend, S3NeedsCredentials) {
  const char* saved_id = std::getenv("AWS_ACCESS_KEY_ID");
  const char* saved_secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  std::string id = saved_id ? saved_id : "", secret = saved_secret ? saved_secret : "";
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(OpenBackend("s3:http://127.0.0.1:9/b").status().code(), StatusCode::kUnauthenticated);
  ::setenv("AWS_ACCESS_KEY_ID", "from-env", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  EXPECT_TRUE(OpenBackend("s3:http://127.0.0.1:9/b").ok());
  if (saved_id)
    ::setenv("AWS_ACCESS_KEY_ID", id.c_str(), 1);
  else
    ::unsetenv("AWS_ACCESS_KEY_ID");
  if (saved_secret)
    ::setenv("AWS_SECRET_ACCESS_KEY", secret.c_str(), 1);
  else
    ::unsetenv("AWS_SECRET_ACCESS_KEY");
}

TEST(ParseS3Url, Parts) {
  auto l = ParseS3Url("s3:http://127.0.0.1:4568/bkt");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->scheme, "http");
  EXPECT_EQ(l->host, "127.0.0.1");
  EXPECT_EQ(l->port, 4568);
  EXPECT_EQ(l->bucket, "bkt");
  EXPECT_EQ(l->prefix, "");
  auto aws = ParseS3Url("s3:s3.amazonaws.com/bkt/a/b");
  ASSERT_TRUE(aws.ok());
  EXPECT_EQ(aws->scheme, "https");
  EXPECT_EQ(aws->port, 0);
  EXPECT_EQ(aws->prefix, "a/b");
  auto v6 = ParseS3Url("s3:http://[::1]:9000/b");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->port, 9000);
  auto v6_default = ParseS3Url("s3:https://[::1]/b");
  ASSERT_TRUE(v6_default.ok());
  EXPECT_EQ(v6_default->host, "[::1]");
  EXPECT_EQ(v6_default->port, 0);
}

}  // namespace
}  // namespace clawback::store
