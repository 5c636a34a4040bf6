#include "store/config.h"

#include <gtest/gtest.h>

#include "store/chunker/chunker.h"
#include "store/unpacked.h"

namespace clawback::store {
namespace {

TEST(Config, JsonAsResticWritesIt) {
  RepoConfig c;
  c.id = "edc8524f44c587d8b9bc50c26646fe91b9d498a65216b7a409ad23544237dd92";
  c.chunker_polynomial = 0x2f74f843e57f9f;
  constexpr char kJson[] =
      R"({"version":2,"id":"edc8524f44c587d8b9bc50c26646fe91b9d498a65216b7a409ad23544237dd92","chunker_polynomial":"2f74f843e57f9f"})";
  EXPECT_EQ(c.ToJson(), kJson);
  auto back = RepoConfig::Parse(kJson);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->chunker_polynomial, c.chunker_polynomial);
  EXPECT_EQ(back->id, c.id);
  EXPECT_EQ(RepoConfig::Parse(R"({"version":2,"id":"x","chunker_polynomial":"2F74F843E57F9F"})")->chunker_polynomial,
            0x2f74f843e57f9fu);
}

TEST(Config, RejectsBadVersionAndReduciblePolynomial) {
  EXPECT_FALSE(RepoConfig::Parse(R"({"version":3,"id":"x","chunker_polynomial":"2f74f843e57f9f"})").ok());
  EXPECT_FALSE(RepoConfig::Parse(R"({"version":2,"id":"x","chunker_polynomial":"3da3358b4dc171"})").ok());
  EXPECT_FALSE(RepoConfig::Parse(R"({"version":2,"id":"x","chunker_polynomial":"0x3da3358b4dc173"})").ok());
  EXPECT_FALSE(RepoConfig::Parse(R"({"version":2,"id":"x"})").ok());
  EXPECT_FALSE(RepoConfig::Parse("").ok());
}

TEST(Config, NewAndFileRoundTrip) {
  RepoConfig c = RepoConfig::New();
  EXPECT_EQ(c.version, 2);
  EXPECT_EQ(c.id.size(), 64u);
  EXPECT_TRUE(PolIrreducible(c.chunker_polynomial));
  Key k = Key::Random();
  std::string file = EncodeConfigFile(k, c);
  EXPECT_EQ(file.size(), c.ToJson().size() + 32);  // never compressed
  auto back = DecodeConfigFile(k, file);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->id, c.id);
  EXPECT_EQ(DecodeConfigFile(Key::Random(), file).status().code(), StatusCode::kCorruption);
}

TEST(Unpacked, V2CompressedRawJsonAndErrors) {
  Key k = Key::Random();
  std::string json = R"({"a":1})";
  std::string file = EncodeUnpacked(k, json);
  EXPECT_EQ(Open(k, file).value()[0], '\x02');
  EXPECT_EQ(DecodeUnpacked(k, file).value(), json);
  EXPECT_EQ(DecodeUnpacked(k, EncodeUnpacked(k, json, false)).value(), json);
  EXPECT_EQ(DecodeUnpacked(k, Seal(k, "[1]")).value(), "[1]");
  EXPECT_EQ(DecodeUnpacked(k, Seal(k, "")).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeUnpacked(k, Seal(k, "\x03xyz")).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeUnpacked(k, Seal(k, "\x02xyz")).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace clawback::store
