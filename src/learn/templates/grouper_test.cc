#include "learn/templates/grouper.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "learn/templates/pipeline.h"

namespace clawback::learn {
namespace {

// Whitespace-split lines (already masked) as a batch; `store` keeps the text alive.
TokenLines Batch(const std::vector<std::string>& store) {
  TokenLines t;
  for (const auto& s : store) {
    std::string_view v(s);
    size_t i = 0;
    while (i < v.size()) {
      while (i < v.size() && v[i] == ' ') ++i;
      size_t j = i;
      while (j < v.size() && v[j] != ' ') ++j;
      if (j > i) t.tokens.push_back(v.substr(i, j - i));
      i = j;
    }
    t.EndLine();
  }
  return t;
}

std::string Text(const std::vector<std::string>& tokens) {
  std::string out;
  for (const auto& t : tokens) out += (out.empty() ? "" : " ") + t;
  return out;
}

std::set<std::string> Templates(const Grouping& g) {
  std::set<std::string> out;
  for (const auto& t : g.templates) out.insert(Text(t));
  return out;
}

TEST(GroupByFrequencyTest, WordsOfOneStatementShareTheirCount) {
  std::vector<std::string> lines;
  const char* users[] = {"ann", "bob", "carl", "dora", "emil", "fred"};
  for (int i = 0; i < 12; ++i) {
    lines.push_back(std::string("session opened for user ") + users[i % 6] + " by <*>");
    // The same names pass through another message, as user=<name>: they are data.
    lines.push_back(std::string("pam_unix: auth ok; user=") + users[i % 6]);
    if (i % 3 == 0) lines.push_back("session closed for user root by <*>");
  }
  Grouping g = GroupByFrequency(Batch(lines));
  // Six user names are a variable; opened/closed (with the same shared words) are not.
  EXPECT_EQ(Templates(g), (std::set<std::string>{"session opened for user <*> by <*>",
                                                  "session closed for user root by <*>",
                                                  "pam_unix: auth ok; user=<*>"}));
  ASSERT_EQ(g.group_of_line.size(), lines.size());
  EXPECT_EQ(g.sizes[g.group_of_line[0]], 12u);
}

// The same few words used nowhere else are the wording of different messages.
TEST(GroupByFrequencyTest, FewWordsUsedOnlyHereAreMessages) {
  std::vector<std::string> lines;
  const char* cmds[] = {"boot", "wait", "halt", "boot", "wait", "boot"};
  for (int i = 0; i < 24; ++i) lines.push_back(std::string(cmds[i % 6]) + " (command <*>)");
  Grouping g = GroupByFrequency(Batch(lines));
  EXPECT_EQ(Templates(g), (std::set<std::string>{"boot (command <*>)", "wait (command <*>)",
                                                  "halt (command <*>)"}));
}

// A value shared by two messages is data even when one message is rarer than the other.
TEST(GroupByFrequencyTest, ValuesSharedByMessagesOfUnequalCountsAreData) {
  std::vector<std::string> lines;
  const char* svcs[] = {"cupsd", "avahi", "bluetoothd", "sshd"};
  for (int i = 0; i < 40; ++i) lines.push_back(std::string(svcs[i % 4]) + " startup succeeded");
  for (int i = 0; i < 24; ++i) lines.push_back(std::string(svcs[i % 4]) + " shutdown failed");
  Grouping g = GroupByFrequency(Batch(lines));
  EXPECT_EQ(Templates(g),
            (std::set<std::string>{"<*> startup succeeded", "<*> shutdown failed"}));
}

// Two columns that vary together are wording even when their words occur elsewhere.
TEST(GroupByFrequencyTest, ColumnsThatVaryTogetherSplit) {
  std::vector<std::string> lines;
  const char* steps[][2] = {{"NEW", "SCHEDULED"}, {"SCHEDULED", "RUNNING"}, {"RUNNING", "DONE"}};
  for (int i = 0; i < 12; ++i)
    lines.push_back(std::string("task_<*> Transitioned from ") + steps[i % 3][0] + " to " +
                    steps[i % 3][1]);
  Grouping g = GroupByFrequency(Batch(lines));
  EXPECT_EQ(Templates(g), (std::set<std::string>{"task_<*> Transitioned from NEW to SCHEDULED",
                                                  "task_<*> Transitioned from SCHEDULED to RUNNING",
                                                  "task_<*> Transitioned from RUNNING to DONE"}));
}

// A value that is not masked (a host name without digits) in the first token must not
// separate the lines of one message, as a tree routed on leading tokens would.
TEST(GroupByFrequencyTest, LeadingVariableWordsDoNotSplit) {
  std::vector<std::string> lines;
  const char* hosts[] = {"alpha", "bravo", "charlie", "delta", "echo"};
  for (int i = 0; i < 10; ++i) {
    lines.push_back(std::string(hosts[i % 5]) + ": connection reset by peer");
    lines.push_back(std::string(hosts[(i + 2) % 5]) + ": disk quota exceeded on <*>");
  }
  Grouping g = GroupByFrequency(Batch(lines));
  EXPECT_EQ(Templates(g), (std::set<std::string>{"<*>: connection reset by peer",
                                                  "<*>: disk quota exceeded on <*>"}));
}

// A handful of different words in one place of otherwise equal lines are different
// messages (`stored as bytes` / `stored as values`); many are a variable.
TEST(GroupByFrequencyTest, FewWordsSplitManyWordsVary) {
  std::vector<std::string> lines;
  for (int i = 0; i < 20; ++i)
    lines.push_back(std::string("Block <*> stored as ") + (i % 2 ? "bytes" : "values") +
                    " in memory");
  // Many different words are a variable.
  for (int i = 0; i < 28; ++i)
    lines.push_back(std::string("Registering job ") + static_cast<char>('a' + i % 14) + "job" +
                    " with scheduler");
  // Values that differ only in digits are one variable, however few.
  for (int i = 0; i < 8; ++i)
    lines.push_back(std::string("interface ee") + std::to_string(i % 2) + " is down");
  Grouping g = GroupByFrequency(Batch(lines));
  EXPECT_EQ(Templates(g), (std::set<std::string>{
                              "Block <*> stored as bytes in memory",
                              "Block <*> stored as values in memory",
                              "Registering job <*> with scheduler",
                              "interface <*> is down",
                          }));
}

TEST(GroupByFrequencyTest, DeterministicAndOrderedByFirstLine) {
  std::vector<std::string> lines = {"b one <*>", "a two", "b one <*>", "c three <*> <*>", "a two"};
  Grouping g1 = GroupByFrequency(Batch(lines));
  Grouping g2 = GroupByFrequency(Batch(lines));
  EXPECT_EQ(g1.group_of_line, g2.group_of_line);
  EXPECT_EQ(g1.group_of_line, (std::vector<uint32_t>{0, 1, 0, 2, 1}));
  EXPECT_EQ(g1.sizes, (std::vector<uint64_t>{2, 2, 1}));
}

TEST(GroupByFrequencyTest, EmptyLinesAndEmptyBatch) {
  Grouping none = GroupByFrequency(TokenLines{});
  EXPECT_TRUE(none.templates.empty());
  Grouping g = GroupByFrequency(Batch({"", "x <*>", ""}));
  EXPECT_EQ(g.group_of_line[0], g.group_of_line[2]);
  EXPECT_TRUE(g.templates[g.group_of_line[0]].empty());
}

TemplatePipeline Pipe(TemplateMiner miner = TemplateMiner{}) {
  auto f = LogFormat::Parse("<Time> <Level> <Content>");
  auto m = Masker::Create(MaskOptions{});
  return TemplatePipeline(*f, std::move(*m), std::move(miner));
}

// Batches join the templates known before them (ids stay across runs), never each other.
TEST(TemplatePipelineTest, BatchesKeepIdsAcrossRunsAndSkipUnmatchedLines) {
  std::vector<std::string> text = {
      "10:00 INFO worker alpha started in 10 ms",
      "10:01 INFO worker beta started in 12 ms",
      "unformatted",
      "10:02 WARN queue depth 10 over limit 5",
      "10:03 INFO worker gamma started in 9 ms",
      "10:04 WARN queue depth 11 over limit 5",
  };
  std::vector<std::string_view> lines(text.begin(), text.end());
  auto pipe = Pipe();
  std::vector<uint64_t> ids = pipe.AddBatch(lines);
  EXPECT_EQ(ids[2], 0u);  // did not match: not mined
  EXPECT_EQ(pipe.unmatched(), 1u);
  ASSERT_EQ(pipe.unmatched_examples().size(), 1u);
  EXPECT_EQ(pipe.unmatched_examples()[0].first, 3u);
  EXPECT_EQ(ids[0], ids[1]);
  EXPECT_EQ(ids[0], ids[4]);
  EXPECT_EQ(ids[3], ids[5]);
  EXPECT_NE(ids[0], ids[3]);
  EXPECT_EQ(pipe.miner().TemplateText(ids[0]), "worker <*> started in <*> ms");

  // A second run from the saved state gives every line the same id, and a later batch with
  // new values joins the known templates.
  auto state = pipe.miner().ToJson();
  auto loaded = TemplateMiner::FromJson(state, MinerOptions{});
  ASSERT_TRUE(loaded.ok());
  auto again = Pipe(std::move(*loaded));
  EXPECT_EQ(again.AddBatch(lines), ids);
  std::vector<std::string_view> more = {"11:00 INFO worker delta started in 7 ms",
                                        "11:01 WARN queue depth 12 over limit 6"};
  std::vector<uint64_t> more_ids = again.AddBatch(more);
  EXPECT_EQ(more_ids[0], ids[0]);
  EXPECT_EQ(more_ids[1], ids[3]);
  EXPECT_EQ(again.miner().size(), 2u);
}

// A known template (say, of another log in the same state file) that is like two groups of a
// batch takes one of them, not both: the batch's grouping stands.
TEST(TemplatePipelineTest, AKnownTemplateTakesOneGroupOfABatch) {
  TemplateMiner old;
  std::vector<std::string_view> known = {"session", "<*>", "for", "user", "<*>"};
  const uint64_t known_id = old.Add(known);
  auto pipe = Pipe(std::move(old));
  std::vector<std::string> text;
  for (int i = 0; i < 6; ++i) {
    text.push_back("10:00 INFO session opened for user u" + std::to_string(i % 3));
    text.push_back("10:00 INFO session closed for user u" + std::to_string(i % 3));
  }
  std::vector<std::string_view> lines(text.begin(), text.end());
  std::vector<uint64_t> ids = pipe.AddBatch(lines);
  EXPECT_NE(ids[0], ids[1]);
  EXPECT_TRUE(ids[0] == known_id || ids[1] == known_id);
  for (size_t i = 2; i < ids.size(); ++i) EXPECT_EQ(ids[i], ids[i % 2]);
}

TEST(TemplatePipelineTest, UnmatchedLinesMinedWholeOnRequest) {
  auto f = LogFormat::Parse("<Time> <Level> <Content>");
  auto m = Masker::Create(MaskOptions{});
  TemplatePipeline pipe(*f, std::move(*m), TemplateMiner{}, UnmatchedLines::kWhole);
  uint64_t id = pipe.AddLine("garbage");
  EXPECT_NE(id, 0u);
  EXPECT_EQ(pipe.miner().TemplateText(id), "garbage");
  EXPECT_EQ(pipe.unmatched(), 1u);
}

}  // namespace
}  // namespace clawback::learn
