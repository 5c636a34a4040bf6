#include "store/encoding/go_json.h"

#include <gtest/gtest.h>

namespace clawback::store {
namespace {

std::string Json(std::string_view s) {
  std::string out;
  AppendGoJsonString(&out, s);
  return out;
}

TEST(GoJson, EscapesLikeGo119) {
  EXPECT_EQ(Json("plain"), "\"plain\"");
  EXPECT_EQ(Json("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Json("\n\r\t"), R"("\n\r\t")");
  EXPECT_EQ(Json(std::string("\x01\x08\x0c\x1f", 4)), R"("\u0001\u0008\u000c\u001f")");
  EXPECT_EQ(Json("a<b>&c"), R"("a\u003cb\u003e\u0026c")");
  EXPECT_EQ(Json("\u2028\u2029"), R"("\u2028\u2029")");
  EXPECT_EQ(Json("bad\xff" "x"), R"("bad\ufffdx")");
  EXPECT_EQ(Json("é😀"), "\"é😀\"");
  EXPECT_EQ(Json("\x7f"), "\"\x7f\"");
}

// Examples verified against restic 0.14 output (spec §10.6): raw name -> bytes inside the
// tree JSON string.
TEST(GoQuote, ResticNameExamples) {
  EXPECT_EQ(Json(GoQuoteInner("we\"ird\tname é.txt")), "\"we\\\\\\\"ird\\\\tname é.txt\"");
  EXPECT_EQ(Json(GoQuoteInner("bad\xffname")), "\"bad\\\\xffname\"");
  EXPECT_EQ(Json(GoQuoteInner("ctl\x01\x7f")), "\"ctl\\\\x01\\\\x7f\"");
  EXPECT_EQ(Json(GoQuoteInner("nb\u00a0sp😀")), "\"nb\\\\u00a0sp😀\"");
  EXPECT_EQ(Json(GoQuoteInner("a<b>&c")), R"("a\u003cb\u003e\u0026c")");
}

TEST(GoQuote, EscapeTable) {
  EXPECT_EQ(GoQuoteInner("\a\b\f\n\r\t\v"), R"(\a\b\f\n\r\t\v)");
  EXPECT_EQ(GoQuoteInner("\xad"), R"(\xad)");       // stray continuation byte
  EXPECT_EQ(GoQuoteInner("\u00ad"), R"(\u00ad)");   // soft hyphen: format char, not printable
  EXPECT_EQ(GoQuoteInner("\U000e0001"), R"(\U000e0001)");  // language tag (Cf)
  EXPECT_EQ(GoQuoteInner("\u3000"), R"(\u3000)");   // ideographic space (Zs)
  EXPECT_EQ(GoQuoteInner("日本"), "日本");
  EXPECT_EQ(GoQuoteInner("\xed\xa0\x80"), R"(\xed\xa0\x80)");  // encoded surrogate is invalid
}

TEST(GoQuote, UnquoteInvertsQuote) {
  for (std::string raw : {std::string("we\"ird\tname é.txt"), std::string("bad\xffname"),
                          std::string("ctl\x01\x7f"), std::string("nb\u00a0sp😀"), std::string("\a\b\f\n\r\t\v\\"),
                          std::string("\U000e0001x"), std::string("", 0), std::string("\0z", 2)}) {
    auto back = GoUnquoteInner(GoQuoteInner(raw));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, raw);
  }
}

TEST(GoQuote, UnquoteAcceptsOctalAndRejectsGarbage) {
  EXPECT_EQ(GoUnquoteInner(R"(\101\x42\u00e9\U0001F600)").value(), "AB\u00e9😀");
  EXPECT_FALSE(GoUnquoteInner(R"(\')").ok());
  EXPECT_FALSE(GoUnquoteInner("a\"b").ok());
  EXPECT_FALSE(GoUnquoteInner("a\nb").ok());
  EXPECT_FALSE(GoUnquoteInner(R"(\x4)").ok());
  EXPECT_FALSE(GoUnquoteInner(R"(\400)").ok());
  EXPECT_FALSE(GoUnquoteInner(R"(\ud800)").ok());
  EXPECT_FALSE(GoUnquoteInner("\\").ok());
  EXPECT_FALSE(GoUnquoteInner(R"(\q)").ok());
}

TEST(Base64, StdWithPadding) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode(std::string("hello\0\xff", 7)), "aGVsbG8A/w==");
  EXPECT_EQ(Base64Decode("aGVsbG8A/w==").value(), std::string("hello\0\xff", 7));
  EXPECT_EQ(Base64Decode("").value(), "");
  EXPECT_FALSE(Base64Decode("Zg").ok());
  EXPECT_FALSE(Base64Decode("Z===").ok());
  EXPECT_FALSE(Base64Decode("Zm9!").ok());
  EXPECT_FALSE(Base64Decode("Zg==Zg==").ok());
}

TEST(Timestamp, FormatsLikeGo) {
  EXPECT_EQ(Timestamp().ToRfc3339(), "0001-01-01T00:00:00Z");
  EXPECT_EQ(Timestamp::FromUnixUtc(1704067200, 0).ToRfc3339(), "2024-01-01T00:00:00Z");
  EXPECT_EQ(Timestamp::FromUnixUtc(1704067200, 570000000).ToRfc3339(), "2024-01-01T00:00:00.57Z");
  EXPECT_EQ(Timestamp::FromUnixUtc(1704067200, 1).ToRfc3339(), "2024-01-01T00:00:00.000000001Z");
  Timestamp t{1683349689, 123456789, 7200};
  EXPECT_EQ(t.ToRfc3339(), "2023-05-06T07:08:09.123456789+02:00");
  Timestamp neg{1683349689, 0, -(5 * 3600 + 30 * 60)};
  EXPECT_EQ(neg.ToRfc3339(), "2023-05-05T23:38:09-05:30");
  // Years past 9999 are clamped, as restic does.
  EXPECT_EQ(Timestamp::FromUnixUtc(253402300800 + 86400 * 400, 0).ToRfc3339().substr(0, 5), "9999-");
}

TEST(Timestamp, ParsesAndRoundTrips) {
  for (const char* s : {"2026-11-27T01:41:35.57130649Z", "2023-05-06T07:08:09.123456789+02:00",
                        "2023-05-06T07:08:11Z", "0001-01-01T00:00:00Z", "1969-12-31T23:59:59.5-01:00"}) {
    auto t = Timestamp::Parse(s);
    ASSERT_TRUE(t.ok()) << s;
    EXPECT_EQ(t->ToRfc3339(), s);
  }
  EXPECT_EQ(Timestamp::Parse("2023-05-06T07:08:09+02:00")->unix_seconds, 1683349689);
  EXPECT_TRUE(Timestamp::Parse("0001-01-01T00:00:00Z")->IsZero());
  for (const char* s : {"", "2023-05-06", "2023-05-06T07:08:09", "2023-13-06T07:08:09Z", "2023-05-06T07:08:09.Z",
                        "2023-05-06T07:08:09+0200", "2023-05-06T07:08:09Zjunk"}) {
    EXPECT_FALSE(Timestamp::Parse(s).ok()) << s;
  }
}

}  // namespace
}  // namespace clawback::store
