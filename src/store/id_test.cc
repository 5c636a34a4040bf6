#include "store/id.h"

#include <gtest/gtest.h>

namespace clawback::store {
namespace {

TEST(Id, HashHexParse) {
  Id empty = Id::Hash("");
  EXPECT_EQ(empty.Hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Id::Hash("{\"nodes\":[]}\n").Hex(), "ac08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523fee8");
  auto parsed = Id::Parse("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, empty);
  EXPECT_EQ(empty.ShortHex(), "e3b0c442");
  EXPECT_FALSE(Id::Parse("e3b0").ok());
  EXPECT_FALSE(Id::Parse(std::string(64, 'g')).ok());
  EXPECT_TRUE(Id().IsNull());
  EXPECT_FALSE(empty.IsNull());
}

TEST(Id, IncrementalSha256MatchesOneShot) {
  Sha256 h;
  h.Update("hello ");
  h.Update("restic\n");
  EXPECT_EQ(h.Final().Hex(), "fbbd69198637d5360353c39796181175de6311c2a61abe2fe6392c938018660f");
  h.Update("");
  EXPECT_EQ(h.Final(), Id::Hash(""));  // reusable after Final
}

TEST(Id, PrefixMatching) {
  std::vector<Id> ids = {Id::Hash("a"), Id::Hash("b"), Id::Hash("c")};
  std::string hex = ids[1].Hex();
  EXPECT_EQ(FindUniqueByPrefix(ids, hex.substr(0, 6)).value(), ids[1]);
  EXPECT_EQ(FindUniqueByPrefix(ids, hex).value(), ids[1]);
  EXPECT_EQ(FindUniqueByPrefix(ids, "ffffffffff").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(FindUniqueByPrefix(ids, "xyz").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FindUniqueByPrefix(ids, "").status().code(), StatusCode::kInvalidArgument);
  // Ambiguous: two ids sharing a prefix.
  Id x = ids[0];
  Id y = ids[0];
  y.mutable_data()[31] ^= 1;
  auto r = FindUniqueByPrefix({x, y}, x.Hex().substr(0, 10));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("ambiguous"), std::string::npos);
  EXPECT_TRUE(IdHasPrefix(x, x.Hex().substr(0, 7)));
  EXPECT_TRUE(IdHasPrefix(x, ""));
}

TEST(Hex, RoundTrip) {
  EXPECT_EQ(ToHex(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(FromHex("00FF10").value(), std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(FromHex("abc").ok());
  EXPECT_FALSE(FromHex("zz").ok());
}

}  // namespace
}  // namespace clawback::store
