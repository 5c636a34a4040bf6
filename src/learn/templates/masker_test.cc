#include "learn/templates/masker.h"

#include <gtest/gtest.h>

namespace clawback::learn {
namespace {

std::string M(std::string_view t) { return Masker::MaskToken(t); }

std::vector<std::string> Tokens(const Masker& m, std::string_view line) {
  MaskedLine out;
  m.Mask(line, &out);
  return {out.tokens.begin(), out.tokens.end()};
}

TEST(MaskTokenTest, Numbers) {
  EXPECT_EQ(M("42"), "<*>");
  EXPECT_EQ(M("-17"), "<*>");
  EXPECT_EQ(M("0.023958297"), "<*>");
  EXPECT_EQ(M("1e-5"), "<*>");
  EXPECT_EQ(M("6.1.26"), "<*>");
  EXPECT_EQ(M("jetty-6.1.26"), "jetty-<*>");
  EXPECT_EQ(M("node-246"), "node-<*>");
  EXPECT_EQ(M("core.2275"), "core.<*>");
}

TEST(MaskTokenTest, PunctuationAroundValuesIsKept) {
  EXPECT_EQ(M("(uid=0)"), "(uid=<*>)");
  EXPECT_EQ(M("3)."), "<*>).");
  EXPECT_EQ(M("[173.234.31.186]"), "[<*>]");
  EXPECT_EQ(M("vCores:-17>"), "vCores:<*>>");
  EXPECT_EQ(M("ask=4"), "ask=<*>");
  EXPECT_EQ(M("#12"), "#<*>");
}

TEST(MaskTokenTest, DurationsAndSizes) {
  EXPECT_EQ(M("10000ms"), "<*>");
  EXPECT_EQ(M("3.5s"), "<*>");
  EXPECT_EQ(M("512MB"), "<*>");
  EXPECT_EQ(M("99%"), "<*>%");  // `%` is punctuation, kept like brackets
}

TEST(MaskTokenTest, Hex) {
  EXPECT_EQ(M("0x14ed93111f20027"), "<*>");
  EXPECT_EQ(M("003a90fc"), "<*>");
  EXPECT_EQ(M("Event@1a2b3c4d"), "Event@<*>");
  // Words made of hex letters, and short runs, are not values.
  EXPECT_EQ(M("deface"), "deface");
  EXPECT_EQ(M("ee0"), "ee0");
}

TEST(MaskTokenTest, AddressesAndHosts) {
  EXPECT_EQ(M("10.251.73.220"), "<*>");
  EXPECT_EQ(M("10.251.73.220:50010"), "<*>");
  EXPECT_EQ(M("10.251.30.85:50010:Got"), "<*>:Got");
  EXPECT_EQ(M("msra-sa-41:9000"), "<*>");
  EXPECT_EQ(M("msra-sa-41/10.190.173.170:9000"), "<*>");
  EXPECT_EQ(M("ns.example-host.com"), "<*>");
  EXPECT_EQ(M("rhost=5.36.59.76.dynamic-dsl-ip.omantel.net.om"), "rhost=<*>");
  // Java packages and dotted configuration keys are not host names.
  EXPECT_EQ(M("org.apache.hadoop.mapreduce.v2.app.MRAppMaster:"),
            "org.apache.hadoop.mapreduce.v2.app.MRAppMaster:");
  EXPECT_EQ(M("mapred.task.id"), "mapred.task.id");
}

TEST(MaskTokenTest, UuidsPathsUrls) {
  EXPECT_EQ(M("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), "<*>");
  EXPECT_EQ(M("id=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b,"), "id=<*>,");
  EXPECT_EQ(M("/etc/httpd/conf/workers2.properties"), "<*>");
  EXPECT_EQ(M("/10.251.90.64:"), "<*>:");
  EXPECT_EQ(M("/user/root/part-00590."), "<*>");
  EXPECT_EQ(M("reqpath:/zookeeper/quota"), "reqpath:<*>");
  EXPECT_EQ(M("hdfs://10.10.34.11:9000/pjhe/logs/2kSOSP.log:21876+7292"), "<*>");
  EXPECT_EQ(M("(https://example.com/x?y=1)"), "(<*>)");
}

TEST(MaskTokenTest, UnderscoreIdentifiers) {
  EXPECT_EQ(M("attempt_1445144423722_0020_m_000000_0"), "<*>");
  EXPECT_EQ(M("blk_-6952295868487656571"), "<*>");
  EXPECT_EQ(M("rdd_2_0"), "<*>");
  EXPECT_EQ(M("[DFSClient_NONMAPREDUCE_1537864556_1]"), "[<*>]");
  // Names that merely contain a digit keep their text.
  EXPECT_EQ(M("jk2_init()"), "jk2_init()");
  EXPECT_EQ(M("pam_unix(sshd:auth):"), "pam_unix(sshd:auth):");
  EXPECT_EQ(M("YARN_AM_RM_TOKEN,"), "YARN_AM_RM_TOKEN,");
}

TEST(MaskTokenTest, ConstantsStay) {
  for (std::string_view t : {"ssh2", "[preauth]", "****", "-", "Input/output", "x+", "E5",
                             "workerEnv.init()", "HttpServer2$QuotingInputFilter"})
    EXPECT_EQ(M(t), t);
}

// Tokens with no digit, slash, dot, dash or `<` skip the scan; these sit on both sides.
TEST(MaskTokenTest, WordsWithoutValueCharactersPassThrough) {
  for (std::string_view t : {"deadbeefcafe", "key=value", "(TERM,", "a:b:c", "YARN_AM_RM",
                             "user@host", "%s", "[preauth]", "\\", "*"})
    EXPECT_EQ(M(t), t);
  EXPECT_EQ(M("dead-beef"), "dead-beef");
  EXPECT_EQ(M("abcdefab-abcd-abcd-abcd-abcdefabcdef"), "<*>");  // a UUID of letters only
  EXPECT_EQ(M("ns.example.com"), "<*>");
  EXPECT_EQ(M("<*>,"), "<*>,");
}

TEST(MaskerTest, TokenisesOnAnyWhitespace) {
  auto m = Masker::Create({});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Tokens(*m, "  Failed password for root from 1.2.3.4\tport 22  ssh2 "),
            (std::vector<std::string>{"Failed", "password", "for", "root", "from", "<*>", "port",
                                      "<*>", "ssh2"}));
  EXPECT_TRUE(Tokens(*m, "   ").empty());
}

TEST(MaskerTest, SizeUnitJoinsItsNumber) {
  auto m = Masker::Create({});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Tokens(*m, "(estimated size 5.2 KB, free 4 GB)"),
            (std::vector<std::string>{"(estimated", "size", "<*>,", "free", "<*>)"}));
  // A unit after a word is text.
  EXPECT_EQ(Tokens(*m, "unit MB"), (std::vector<std::string>{"unit", "MB"}));
}

TEST(MaskerTest, UserRegexesKeepTheConstantPartOfAMatch) {
  auto m = Masker::Create({.builtin = true, .user_regexes = {"core\\.\\d+", "=\\d+", "KB"}});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Tokens(*m, "generating core.2275 ambient=30 KB"),
            (std::vector<std::string>{"generating", "core.<*>", "ambient=<*>", "<*>"}));
}

TEST(MaskerTest, UserRegexesAloneReplaceWholeMatches) {
  auto m = Masker::Create({.builtin = false, .user_regexes = {"core\\.\\d+"}});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Tokens(*m, "generating core.2275 at 12"),
            (std::vector<std::string>{"generating", "<*>", "at", "12"}));
}

TEST(MaskerTest, AdjacentWildcardsCollapse) {
  auto m = Masker::Create({.builtin = true, .user_regexes = {"(\\d+\\.){3}\\d+", "[a-z]+\\.om"}});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Tokens(*m, "rhost=5.36.59.76.omantel.om"), (std::vector<std::string>{"rhost=<*>"}));
}

TEST(MaskerTest, BadRegexIsAnInvalidArgument) {
  auto m = Masker::Create({.builtin = true, .user_regexes = {"(unclosed"}});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("(unclosed"), std::string::npos);
}

}  // namespace
}  // namespace clawback::learn
