#include "common/clock.h"

#include <gtest/gtest.h>

namespace clawback {
namespace {

TEST(Rfc3339, FormatAndParse) {
  EXPECT_EQ(FormatRfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(1795746721646), "2026-11-27T02:32:01.646Z");
  int64_t ms;
  ASSERT_TRUE(ParseRfc3339Millis("2026-11-27T02:32:01.646Z", &ms));
  EXPECT_EQ(ms, 1795746721646);
  ASSERT_TRUE(ParseRfc3339Millis("2026-11-27T03:32:01.6+01:00", &ms));
  EXPECT_EQ(ms, 1795746721600);
  ASSERT_TRUE(ParseRfc3339Millis("2026-11-27", &ms));
  EXPECT_EQ(ms, 1795737600000);
  EXPECT_FALSE(ParseRfc3339Millis("2026-13-01T00:00:00Z", &ms));
  EXPECT_FALSE(ParseRfc3339Millis("yesterday", &ms));
  EXPECT_FALSE(ParseRfc3339Millis("2026-11-27T02:32:01", &ms));
}

TEST(ManualClock, Advances) {
  ManualClock c(1000'000'000);
  c.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(c.NowUnixMillis(), 2500);
}

}  // namespace
}  // namespace clawback
