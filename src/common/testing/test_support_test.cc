// The test helpers themselves: ASSERT_OK/EXPECT_OK (status_matchers.h) and TempDir
// (temp_dir.h).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"

namespace clawback {
namespace {

Status Fails() { return NotFound("conversation 42 does not exist"); }
Result<int> FailsWithResult() { return InvalidArgument("limit must be positive"); }
Result<int> Answers() { return 42; }

TEST(StatusMatchers, PassOnOk) {
  EXPECT_OK(Status::Ok());
  ASSERT_OK(Status::Ok());
  EXPECT_OK(Answers());
  ASSERT_OK(Answers());
  ASSERT_OK_AND_ASSIGN(int v, Answers());
  EXPECT_EQ(v, 42);
  int w = 0;
  ASSERT_OK_AND_ASSIGN(w, Answers());
  EXPECT_EQ(w, 42);
}

TEST(StatusMatchers, FailuresPrintTheExpressionAndTheStatus) {
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(Fails()),
                          "Fails() is not OK: NotFound: conversation 42 does not exist");
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(FailsWithResult()),
                          "FailsWithResult() is not OK: InvalidArgument: limit must be positive");
  EXPECT_FATAL_FAILURE(ASSERT_OK(Fails()), "NotFound: conversation 42 does not exist");
  EXPECT_FATAL_FAILURE(ASSERT_OK(FailsWithResult()), "InvalidArgument");
}

void AssignFromFailure() {
  ASSERT_OK_AND_ASSIGN(int v, FailsWithResult());
  (void)v;
}

TEST(StatusMatchers, AssertOkAndAssignStopsOnError) {
  EXPECT_FATAL_FAILURE(AssignFromFailure(),
                       "FailsWithResult() is not OK: InvalidArgument: limit must be positive");
}

TEST(TempDir, IsFreshPerInstanceAndRemovedWithItsContents) {
  std::filesystem::path kept;
  {
    test::TempDir a("clawback-tempdir-test");
    test::TempDir b("clawback-tempdir-test");
    EXPECT_NE(a.path(), b.path());
    EXPECT_TRUE(std::filesystem::is_directory(a.path()));
    EXPECT_TRUE(std::filesystem::is_empty(a.path()));
    EXPECT_EQ(a.File("x.db"), (a.path() / "x.db").string());
    EXPECT_EQ(a.str(), a.path().string());
    std::filesystem::create_directories(a.path() / "sub" / "deeper");
    std::ofstream(a.File("sub/deeper/f.txt")) << "data";
    kept = a.path();
  }
  EXPECT_FALSE(std::filesystem::exists(kept));
}

TEST(TempDir, MovesOwnership) {
  test::TempDir a("clawback-tempdir-test");
  std::filesystem::path p = a.path();
  test::TempDir b = std::move(a);
  EXPECT_EQ(b.path(), p);
  EXPECT_TRUE(a.path().empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  test::TempDir c("clawback-tempdir-test");
  std::filesystem::path q = c.path();
  c = std::move(b);  // c's old directory goes now
  EXPECT_FALSE(std::filesystem::exists(q));
  EXPECT_EQ(c.path(), p);
  EXPECT_TRUE(std::filesystem::exists(p));
}

}  // namespace
}  // namespace clawback
