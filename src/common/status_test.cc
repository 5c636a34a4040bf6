#include "common/status.h"

#include <gtest/gtest.h>

namespace clawback {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(Status, OkIsDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(ExitCodeFor(s.code()), 0);
}

TEST(Status, CarriesCodeAndContext) {
  Status s = NotFound("conversation x").WithContext("trace");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NotFound: trace: conversation x");
  EXPECT_EQ(HttpStatusFor(s.code()), 404);
  EXPECT_EQ(ExitCodeFor(s.code()), 3);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(ExitCodeFor(StatusCode::kWrongPassword), 12);
}

TEST(Result, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "odd: 3");
  EXPECT_EQ(r.value_or(-1), -1);
}

TEST(Status, ErrnoMapping) {
  EXPECT_EQ(ErrnoStatus("open /x", ENOENT).code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoStatus("open /x", EACCES).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoStatus("write /x", EIO).code(), StatusCode::kIOError);
  EXPECT_NE(ErrnoStatus("open /x", ENOENT).message().find("/x"), std::string::npos);
}

}  // namespace
}  // namespace clawback
