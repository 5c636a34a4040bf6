#include "cli/time_arg.h"

#include <gtest/gtest.h>

namespace clawback::cli {
namespace {

TEST(ParseTimeArg, FormsAndErrors) {
  ManualClock clock(1'790'000'000'000'000'000);  // ns
  const int64_t now = 1'790'000'000'000;
  EXPECT_EQ(*ParseTimeArg("2h", "--since", clock), now - 2 * 3'600'000);
  EXPECT_EQ(*ParseTimeArg("30m", "--since", clock), now - 30 * 60'000);
  EXPECT_EQ(*ParseTimeArg("7d", "--since", clock), now - 7 * 86'400'000LL);
  EXPECT_EQ(*ParseTimeArg("90s", "--since", clock), now - 90'000);
  EXPECT_EQ(*ParseTimeArg("2026-11-27T02:00:00Z", "--since", clock), 1'795'744'800'000);
  EXPECT_EQ(*ParseTimeArg("2026-11-27", "--since", clock), 1'795'737'600'000);
  for (const char* bad : {"", "yesterday", "5", "5y", "h2", "2026-13-01"}) {
    auto r = ParseTimeArg(bad, "--until", clock);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("--until"), std::string::npos);
  }
}

}  // namespace
}  // namespace clawback::cli
