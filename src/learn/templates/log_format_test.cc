#include "learn/templates/log_format.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

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

// The scanner jumps to the places where a separator can start (its first character, or a
// whitespace run for a separator that starts with a space); these pin that it still finds
// the same split as trying every position would.
TEST(LogFormatTest, ScannerSkipsOnlyWhereNoSeparatorCanStart) {
  // A separator that starts with a space followed by text: the run before `[` is one try.
  auto f = LogFormat::Parse("<A> \\[<B>\\] <Content>");
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->uses_regex());
  EXPECT_EQ(Content(*f, "x   y [b] c"), "c");
  EXPECT_EQ(Content(*f, "x \t [b]   c d"), "c d");
  EXPECT_EQ(Content(*f, "x [b]"), "<no match>");  // no whitespace after `]`
  // The first character of a separator that occurs early but does not complete it.
  auto g = LogFormat::Parse("<A>:: <Content>");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(Content(*g, "a:b:c:: d"), "d");
  EXPECT_EQ(Content(*g, "a:b:c::d"), "<no match>");
  // A separator that ends the line, seen first inside the line.
  auto h = LogFormat::Parse("<A> <Content> ;");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(Content(*h, "a b ; c ;"), "b ; c");
  EXPECT_EQ(Content(*h, "a b ; c"), "<no match>");
  // Adjacent fields (an empty separator) split at every point, shortest first.
  auto k = LogFormat::Parse("<A><B>-<Content>");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(Content(*k, "ab-c-d"), "c-d");
  EXPECT_EQ(Content(*k, "-c"), "c");
  auto l = LogFormat::Parse("<Content><B>");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(Content(*l, "abc"), "");
  // Separators at the very start and end, multi-byte text, a line that is only header.
  auto m = LogFormat::Parse("\\[<A>\\] <Content>");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Content(*m, "[\xc3\xa9t\xc3\xa9] \xc3\xa7" "a va"), "\xc3\xa7" "a va");
  EXPECT_EQ(Content(*m, "[a]"), "<no match>");
  EXPECT_EQ(Content(*m, "[a] "), "<no match>");  // trimmed: nothing after `]`
  EXPECT_EQ(Content(*m, ""), "<no match>");
  // The last field runs to the end even when its separator is empty.
  auto n = LogFormat::Parse("<A> <Content>");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(Content(*n, "a"), "<no match>");
  EXPECT_EQ(Content(*n, "a \t  b"), "b");
}

// Reference model: the plain matcher's definition, trying every split position in turn
// (fields shortest first, a space in a separator eats a whole whitespace run).
size_t RefLiteral(std::string_view lit, std::string_view line, size_t pos) {
  auto space = [](char c) { return c == ' ' || c == '\t'; };
  size_t j = pos;
  for (char c : lit) {
    if (c == ' ') {
      if (j >= line.size() || !space(line[j])) return std::string_view::npos;
      while (j < line.size() && space(line[j])) ++j;
    } else {
      if (j >= line.size() || line[j] != c) return std::string_view::npos;
      ++j;
    }
  }
  return j - pos;
}

bool RefFrom(const std::vector<std::string>& lits, size_t content, std::string_view line,
             size_t pos, size_t field, std::string_view* out) {
  const bool last = field + 2 == lits.size();
  for (size_t e = pos; e <= line.size(); ++e) {
    size_t n = RefLiteral(lits[field + 1], line, e);
    if (n == std::string_view::npos) continue;
    if (last ? e + n == line.size() : RefFrom(lits, content, line, e + n, field + 1, out)) {
      if (field == content) *out = line.substr(pos, e - pos);
      return true;
    }
  }
  return false;
}

TEST(LogFormatTest, ScannerAgreesWithTryingEveryPosition) {
  std::mt19937 rng(6);
  const std::vector<std::string> seps = {" ", "  ", ": ", " - ", "\\[", "\\] ", ":", "-", "",
                                         " \\[", "@"};
  const std::string alphabet = "ab :-[]@\t";
  int compared = 0;
  for (int round = 0; round < 400; ++round) {
    const size_t nfields = 1 + rng() % 4;
    const size_t content = rng() % nfields;
    std::string format;
    std::vector<std::string> lits;  // as the matcher sees them: unescaped
    for (size_t f = 0; f <= nfields; ++f) {
      std::string sep = f == 0 && rng() % 2 ? "" : seps[rng() % seps.size()];
      if (f == nfields && rng() % 2) sep = "";
      if (f > 0 && f < nfields && sep.empty() && rng() % 2) sep = " ";
      format += sep;
      std::string lit;
      for (char c : sep)  // unescaped, space runs collapsed
        if (c != '\\' && !(c == ' ' && !lit.empty() && lit.back() == ' ')) lit.push_back(c);
      lits.push_back(lit);
      if (f < nfields) format += f == content ? "<Content>" : "<F" + std::to_string(f) + ">";
    }
    auto fmt = LogFormat::Parse(format);
    ASSERT_TRUE(fmt.ok()) << format;
    ASSERT_FALSE(fmt->uses_regex()) << format;
    for (int k = 0; k < 50; ++k) {
      std::string line;
      const size_t len = rng() % 14;
      for (size_t i = 0; i < len; ++i) line.push_back(alphabet[rng() % alphabet.size()]);
      // Trimmed, as Extract trims.
      std::string_view v = line;
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      std::string_view want, got;
      size_t n0 = RefLiteral(lits[0], v, 0);
      bool want_ok = n0 != std::string_view::npos && RefFrom(lits, content, v, n0, 0, &want);
      bool got_ok = fmt->Extract(line, &got);
      ASSERT_EQ(got_ok, want_ok) << "format '" << format << "' line '" << line << "'";
      if (want_ok) {
        ASSERT_EQ(got, want) << "format '" << format << "' line '" << line << "'";
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 1000);
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
