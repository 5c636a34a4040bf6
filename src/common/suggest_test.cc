#include "common/suggest.h"

#include <gtest/gtest.h>

namespace clawback {
namespace {

TEST(Suggest, EditDistanceCountsTranspositionsAsOne) {
  EXPECT_EQ(EditDistance("url", "url"), 0u);
  EXPECT_EQ(EditDistance("ulr", "url"), 1u);
  EXPECT_EQ(EditDistance("lisen", "listen"), 1u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(Suggest, NearestNameOnlyForLikelyTypos) {
  std::vector<std::string> keys = {"url", "password_file", "managed_paths"};
  EXPECT_EQ(NearestName("ulr", keys), "url");
  EXPECT_EQ(NearestName("pasword_file", keys), "password_file");
  EXPECT_EQ(NearestName("managed", keys), "managed_paths");  // an abbreviation
  EXPECT_EQ(NearestName("zzz", keys), "");
  EXPECT_EQ(NearestName("", keys), "");
  EXPECT_EQ(DidYouMean("snapshto", {"snapshot", "snapshots"}), " (did you mean snapshot?)");
  EXPECT_EQ(DidYouMean("frobnicate", {"snapshot", "serve"}), "");
}

}  // namespace
}  // namespace clawback
