#include "learn/templates/log_format.h"

#include <gtest/gtest.h>

namespace clawback::learn {
namespace {

std::string Content(const LogFormat& f, std::string_view line) {
  std::string_view c;
  if (!f.Extract(line, &c)) return "<no match>";
  return std::string(c);
}

TEST(LogFormatTest, PlainSeparators) {
  auto f = LogFormat::Parse("<Date> <Time> <Level> \\[<Process>\\] <Component>: <Content>");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_FALSE(f->uses_regex());
  EXPECT_EQ(f->fields().size(), 6u);
  EXPECT_EQ(Content(*f, "2015-10-18 18:01:47,978 INFO [main] org.a.B: Created MRAppMaster: x"),
            "Created MRAppMaster: x");
  EXPECT_EQ(Content(*f, "no brackets here"), "<no match>");
}

TEST(LogFormatTest, SpacesMatchAnyWhitespaceRun) {
  auto f = LogFormat::Parse("<Date> <Time> - <Level>  \\[<Node>:<Component>@<Id>\\] - <Content>");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(Content(*f, "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:"
                        "FastLeaderElection@774] - Notification time out: 3200"),
            "Notification time out: 3200");
  EXPECT_EQ(Content(*f, "2015-07-29\t17:41:44,747 - WARN [a:b@1] - x  y"), "x  y");
}

TEST(LogFormatTest, ShortestFieldsFirstWithBacktracking) {
  auto f = LogFormat::Parse("<A>: <B>: <Content>");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(Content(*f, "a: b: c: d"), "c: d");
  auto g = LogFormat::Parse("<Content> END");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(Content(*g, "x END y END"), "x END y");
}

TEST(LogFormatTest, RegexSeparatorsUseTheRegexEngine) {
  auto f = LogFormat::Parse("<Pid>\\s+\\d+ <Content>");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->uses_regex());
  EXPECT_EQ(Content(*f, "12  345 hello world"), "hello world");
}

TEST(LogFormatTest, Errors) {
  auto no_content = LogFormat::Parse("<Date> <Time>");
  ASSERT_FALSE(no_content.ok());
  EXPECT_NE(no_content.status().message().find("<Content>"), std::string::npos);
  EXPECT_FALSE(LogFormat::Parse("<Date <Content>").ok());
  EXPECT_FALSE(LogFormat::Parse("<Date> ( <Content>").ok());
}

}  // namespace
}  // namespace clawback::learn
