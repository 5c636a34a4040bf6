#include "learn/templates/log_format.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "learn/templates/pipeline.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

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
      // Where the model finds no split the regex may still find one (ScannerAgreesWithTheRegex).
      if (want_ok) {
        ASSERT_TRUE(got_ok) << "format '" << format << "' line '" << line << "'";
        ASSERT_EQ(got, want) << "format '" << format << "' line '" << line << "'";
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 1000);
}

// The scanner splits plain formats exactly as the regex they stand for (the benchmarks'
// loader's, matched by PCRE2 like the formats with regex syntax) would.
TEST(LogFormatTest, ScannerAgreesWithTheRegex) {
  std::mt19937 rng(12);
  const std::vector<std::string> seps = {" ", "  ", ": ", " - ", "\\[", "\\] ", ":", "-", "",
                                         " \\[", "@", "\\|", ", "};
  const std::string alphabet = "ab :-[]@|,\t";
  int compared = 0, matched = 0;
  for (int round = 0; round < 400; ++round) {
    const size_t nfields = 1 + rng() % 4;
    const size_t content = rng() % nfields;
    std::string format;
    for (size_t f = 0; f <= nfields; ++f) {
      std::string sep = f == 0 && rng() % 2 ? "" : seps[rng() % seps.size()];
      if (f == nfields && rng() % 2) sep = "";
      if (f > 0 && f < nfields && sep.empty() && rng() % 2) sep = " ";
      format += sep;
      if (f < nfields) format += f == content ? "<Content>" : "<F" + std::to_string(f) + ">";
    }
    auto fmt = LogFormat::Parse(format);
    ASSERT_TRUE(fmt.ok()) << format;
    ASSERT_FALSE(fmt->uses_regex()) << format;
    int err = 0;
    PCRE2_SIZE off = 0;
    const std::string& re = fmt->regex();
    pcre2_code* code =
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(re.data()), re.size(), 0, &err, &off, nullptr);
    ASSERT_NE(code, nullptr) << re;
    const int group = pcre2_substring_number_from_name(code, reinterpret_cast<PCRE2_SPTR>("Content"));
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
    for (int k = 0; k < 50; ++k) {
      std::string line;
      const size_t len = rng() % 16;
      for (size_t i = 0; i < len; ++i) line.push_back(alphabet[rng() % alphabet.size()]);
      std::string_view v = line;  // trimmed, as Extract trims
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      const int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(v.data()), v.size(), 0, 0, md,
                                 nullptr);
      std::string_view got;
      const bool got_ok = fmt->Extract(line, &got);
      ASSERT_EQ(got_ok, rc > 0) << "format '" << format << "' line '" << line << "'";
      ++compared;
      if (rc > 0) {
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        ASSERT_EQ(got, v.substr(ov[2 * group], ov[2 * group + 1] - ov[2 * group]))
            << "format '" << format << "' line '" << line << "'";
        ++matched;
      }
    }
    pcre2_match_data_free(md);
    pcre2_code_free(code);
  }
  EXPECT_GT(matched, 1000);
  EXPECT_EQ(compared, 400 * 50);
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
  // A malformed regex between the fields: the message names the format and the regex.
  auto bad = LogFormat::Parse("<Date> ( <Content>");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'<Date> ( <Content>'"), std::string::npos)
      << bad.status().message();
  EXPECT_NE(bad.status().message().find("not a valid regular expression"), std::string::npos);
  EXPECT_FALSE(LogFormat::Parse("<Level> [<Content>").ok());  // unclosed class
  auto twice = LogFormat::Parse("<A> <A> <Content>");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("<A>"), std::string::npos);
  EXPECT_FALSE(LogFormat::Parse("<Event Id> <Content>").ok());  // not a group name
}

// As in the benchmarks' loader, a `<` that does not open a `<Name>` is separator text.
TEST(LogFormatTest, LoneAngleBracketIsText) {
  auto f = LogFormat::Parse("<Date <Content>");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->fields(), std::vector<std::string>{"Content"});
  EXPECT_EQ(Content(*f, "<Date hello"), "hello");
  auto g = LogFormat::Parse("<Time> <<Level>> <Content>");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(Content(*g, "10:00 <WARN> disk low"), "disk low");
}

// The shapes of the published benchmark formats for syslog-style systems: an optional
// `[pid]`, a double space before one-digit days, an optional `(address)`, alternations.
TEST(LogFormatTest, OptionalGroupsAreRegexGroups) {
  auto f = LogFormat::Parse("<Month>  <Day> <Time> <Host> <Proc>(\\[<Pid>\\])?: <Content>");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(f->uses_regex());
  EXPECT_EQ(f->fields(),
            (std::vector<std::string>{"Month", "Day", "Time", "Host", "Proc", "Pid", "Content"}));
  EXPECT_EQ(f->regex(),
            "^(?<Month>.*?)\\s+(?<Day>.*?)\\s+(?<Time>.*?)\\s+(?<Host>.*?)\\s+(?<Proc>.*?)"
            "(\\[(?<Pid>.*?)\\])?:\\s+(?<Content>.*?)$");
  EXPECT_EQ(Content(*f, "Jun  9 06:06:20 combo sshd[2181]: session opened for user ann"),
            "session opened for user ann");
  EXPECT_EQ(Content(*f, "Jun 10 06:06:20 combo kernel: eth0: link up"), "eth0: link up");
  EXPECT_EQ(Content(*f, "Jun 10 06:06:20 combo su(pam_unix)[17]: session closed"),
            "session closed");
  EXPECT_EQ(Content(*f, "-- MARK --"), "<no match>");

  auto mac = LogFormat::Parse(
      "<Month>  <Date> <Time> <User> <Component>\\[<PID>\\]( \\(<Address>\\))?: <Content>");
  ASSERT_TRUE(mac.ok()) << mac.status().ToString();
  EXPECT_EQ(Content(*mac, "Jul  1 09:00:55 box kernel[0]: ARPT: wl0: wake"), "ARPT: wl0: wake");
  EXPECT_EQ(Content(*mac, "Jul 11 09:01:02 box configd[53] (com.example.cfg): network changed"),
            "network changed");

  auto alt = LogFormat::Parse("<Time> (?:INFO|WARN|ERROR) <Content>");
  ASSERT_TRUE(alt.ok());
  EXPECT_EQ(Content(*alt, "12:00:01 WARN disk 91% full"), "disk 91% full");
  EXPECT_EQ(Content(*alt, "12:00:01 DEBUG disk 91% full"), "<no match>");

  // A run of spaces inside the format is \s+ wherever it is; `\|` is a literal bar.
  auto bar = LogFormat::Parse("<Time>\\|<Component>\\|<Pid>\\|<Content>");
  ASSERT_TRUE(bar.ok());
  EXPECT_EQ(Content(*bar, "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579"),
            "onStandStepChanged 3579");
  // <Content> inside an optional group that did not take part is empty.
  auto opt = LogFormat::Parse("<Level>(: <Content>)?");
  ASSERT_TRUE(opt.ok());
  EXPECT_EQ(Content(*opt, "INFO"), "");
  EXPECT_EQ(Content(*opt, "INFO: up"), "up");
}

// Issue 12: a format with an optional group split every line at the wrong group (the pid's,
// mostly empty), so a whole log fell into one or two templates.
TEST(LogFormatTest, OptionalPidFormatMinesEachMessage) {
  auto f = LogFormat::Parse("<Month>  <Day> <Time> <Host> <Proc>(\\[<Pid>\\])?: <Content>");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto masker = Masker::Create(MaskOptions{});
  ASSERT_TRUE(masker.ok());
  TemplatePipeline pipe(*f, std::move(*masker), TemplateMiner{});
  const char* kLines[] = {
      "Jun  9 06:06:20 combo sshd[2181]: session opened for user ann by (uid=0)",
      "Jun  9 06:06:21 combo kernel: eth0: link up, 100 Mbps full duplex",
      "Jun  9 06:06:22 combo sshd[2182]: session opened for user bob by (uid=0)",
      "Jun 10 07:16:20 combo crond[1101]: (root) CMD (run-parts /etc/cron.hourly)",
      "Jun 10 07:16:21 combo kernel: eth0: link up, 10 Mbps full duplex",
      "Jun 10 07:16:22 combo crond[1102]: (root) CMD (run-parts /etc/cron.daily)",
      "Jun 10 07:16:23 combo ntpd: synchronized to 10.0.0.1, stratum 2",
      "Jun 10 07:17:23 combo ntpd: synchronized to 10.0.0.7, stratum 3",
  };
  std::vector<uint64_t> ids;
  for (const char* l : kLines) ids.push_back(pipe.AddLine(l));
  EXPECT_EQ(pipe.miner().size(), 4u);
  EXPECT_EQ(ids[0], ids[2]);
  EXPECT_EQ(ids[1], ids[4]);
  EXPECT_EQ(ids[3], ids[5]);
  EXPECT_EQ(ids[6], ids[7]);
  EXPECT_EQ(pipe.miner().TemplateText(ids[1]), "eth0: link up, <*> Mbps full duplex");
  EXPECT_EQ(pipe.miner().TemplateText(ids[6]), "synchronized to <*>, stratum <*>");
}

}  // namespace
}  // namespace clawback::learn
