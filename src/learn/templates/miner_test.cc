#include "learn/templates/miner.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/testing/temp_dir.h"
#include "learn/templates/masker.h"
#include "learn/templates/pipeline.h"
#include "learn/templates/state.h"

namespace clawback::learn {
namespace {

TemplatePipeline NewPipeline(TemplateMiner miner = TemplateMiner()) {
  auto m = Masker::Create({});
  CLAWBACK_CHECK(m.ok());
  return TemplatePipeline(std::nullopt, std::move(*m), std::move(miner));
}

TEST(GeneralizeTokenTest, KeepsSharedEnds) {
  EXPECT_EQ(GeneralizeToken("MININT-FNANLI5", "MININT-B0K2"), "MININT-<*>");
  EXPECT_EQ(GeneralizeToken("user=root", "user=admin"), "user=<*>");
  EXPECT_EQ(GeneralizeToken("'safety'", "'x'"), "'<*>'");
  EXPECT_EQ(GeneralizeToken("MININT-<*>", "MININT-XY"), "MININT-<*>");
}

TEST(GeneralizeTokenTest, WholeWhenNothingMeaningfulIsShared) {
  EXPECT_EQ(GeneralizeToken("root", "admin"), "<*>");
  EXPECT_EQ(GeneralizeToken("R02-M1-N0", "R23-M0-N4"), "<*>");
  EXPECT_EQ(GeneralizeToken("<*>", "x"), "<*>");
  EXPECT_EQ(GeneralizeToken("a-1", "b-1"), "<*>");  // only `-1` shared: no letter
  EXPECT_EQ(GeneralizeToken("same", "same"), "same");
}

TEST(TemplateMinerTest, GroupsLinesAndGeneralises) {
  auto p = NewPipeline();
  uint64_t a = p.AddLine("Invalid user webmaster from 173.234.31.186");
  uint64_t b = p.AddLine("Invalid user test from 52.80.34.196");
  uint64_t c = p.AddLine("Connection closed by 173.234.31.186 [preauth]");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(p.miner().TemplateText(a), "Invalid user <*> from <*>");
  EXPECT_EQ(p.miner().TemplateText(c), "Connection closed by <*> [preauth]");
  EXPECT_EQ(p.miner().size(), 2u);
}

TEST(TemplateMinerTest, DifferentWordingStaysApart) {
  auto p = NewPipeline();
  uint64_t a = p.AddLine("Received disconnect from 1.2.3.4: 11: Bye Bye [preauth]");
  uint64_t b = p.AddLine("Received disconnect from 1.2.3.5: 11: disconnected by user");
  EXPECT_NE(a, b);
  uint64_t c = p.AddLine("Received disconnect from 9.9.9.9: 14: Bye Bye [preauth]");
  EXPECT_EQ(a, c);
  EXPECT_EQ(p.miner().TemplateText(a), "Received disconnect from <*>: <*>: Bye Bye [preauth]");
}

TEST(TemplateMinerTest, LengthSeparatesAndThresholdDecides) {
  TemplateMiner strict(MinerOptions{.similarity = 1.0});
  auto p = NewPipeline(std::move(strict));
  uint64_t a = p.AddLine("job started alpha");
  uint64_t b = p.AddLine("job started beta");
  EXPECT_NE(a, b);  // 2 of 3 positions agree, below 1.0
  auto q = NewPipeline();
  uint64_t c = q.AddLine("job started alpha");
  EXPECT_EQ(q.AddLine("job started beta"), c);
  EXPECT_NE(q.AddLine("job started alpha now"), c);
  // The leading tokens route (Drain's tree): a different second word is another message.
  EXPECT_NE(q.AddLine("job stopped alpha"), c);
}

// A name with a different number in it (a register, a counter, a unit) agrees with the
// template's token; anything else that differs does not. Threshold 1.0 isolates the rule.
TEST(TemplateMinerTest, TokensThatDifferOnlyInDigitsAgree) {
  auto p = NewPipeline(TemplateMiner(MinerOptions{.similarity = 1.0}));
  uint64_t a = p.AddLine("RAS FATAL r24=0x0ffea4c8 r25=0x00000003 r26=0x0f r27=0xffffd000");
  EXPECT_EQ(p.AddLine("RAS FATAL r4=0x11 r125=0x2 r0=0x0 r99=0x1"), a);
  EXPECT_EQ(p.miner().TemplateText(a), "RAS FATAL <*> <*> <*> <*>");
  uint64_t b = p.AddLine("link ee0 down after 3 tries");
  EXPECT_EQ(p.AddLine("link ee12 down after 4 tries"), b);
  // Letters, punctuation or the presence of a number differ: other messages.
  EXPECT_NE(p.AddLine("link alt0 down after 3 tries"), b);
  EXPECT_NE(p.AddLine("link ee down after 3 tries"), b);
  EXPECT_NE(p.AddLine("link ee0: down after 3 tries"), b);
  EXPECT_NE(p.AddLine("link e0e down after 3 tries"), b);
  EXPECT_NE(p.AddLine("link ee0x down after 3 tries"), b);
}

TEST(TemplateMinerTest, MatchDoesNotLearn) {
  auto p = NewPipeline();
  MaskedLine ml;
  auto m = Masker::Create({});
  ASSERT_TRUE(m.ok());
  m->Mask("disk sda full", &ml);
  EXPECT_FALSE(p.miner().Match(ml.tokens).has_value());
  uint64_t id = p.AddLine("disk sda full");
  EXPECT_EQ(p.miner().Match(ml.tokens), id);
  EXPECT_EQ(p.miner().size(), 1u);
}

TEST(TemplateMinerTest, EmptyLinesShareOneTemplate) {
  auto p = NewPipeline();
  EXPECT_EQ(p.AddLine(""), p.AddLine("   "));
  EXPECT_EQ(p.miner().TemplateText(p.AddLine("")), "");
}

TEST(TemplateMinerTest, ValidatesOptions) {
  EXPECT_FALSE(ValidateMinerOptions({.similarity = 0.0}).ok());
  EXPECT_FALSE(ValidateMinerOptions({.similarity = 1.5}).ok());
  EXPECT_FALSE(ValidateMinerOptions({.depth = 2}).ok());
  EXPECT_TRUE(ValidateMinerOptions({}).ok());
}

TEST(TemplateMinerTest, JsonRoundTripKeepsIdsTextsAndCounts) {
  auto p = NewPipeline();
  p.AddLine("a b 1");
  p.AddLine("a b 2");
  p.AddLine("x y z w");
  auto j = p.miner().ToJson();
  auto back = TemplateMiner::FromJson(j, {});
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  auto before = p.miner().Templates();
  auto after = back->Templates();
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(before[i].id, after[i].id);
    EXPECT_EQ(before[i].text, after[i].text);
    EXPECT_EQ(before[i].count, after[i].count);
  }
  EXPECT_EQ(back->ToJson(), j);
}

TEST(TemplateMinerTest, FromJsonRejectsBadState) {
  EXPECT_FALSE(TemplateMiner::FromJson(nlohmann::json::parse("{}"), {}).ok());
  auto dup = nlohmann::json::parse(
      R"({"format":"clawback-templates","version":1,"next_id":3,"templates":[
          {"id":1,"template":"a","count":1},{"id":1,"template":"b","count":1}]})");
  auto r = TemplateMiner::FromJson(dup, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("duplicate"), std::string::npos);
  auto v2 = nlohmann::json::parse(R"({"format":"clawback-templates","version":2})");
  EXPECT_FALSE(TemplateMiner::FromJson(v2, {}).ok());
}

class TemplateStateTest : public ::testing::Test {
 protected:
  test::TempDir tmp_{"clawback-learn-test"};
  const std::string dir_ = tmp_.str();
};

TEST_F(TemplateStateTest, IdsAreStableAcrossRuns) {
  const std::string path = DefaultTemplateStatePath(dir_);
  uint64_t disk_id, net_id;
  {
    auto miner = LoadTemplateState(path, {});  // no file yet: a fresh miner
    ASSERT_TRUE(miner.ok());
    EXPECT_EQ(miner->size(), 0u);
    auto p = NewPipeline(std::move(*miner));
    disk_id = p.AddLine("disk usage of sda is 91%");
    net_id = p.AddLine("link eth0 down after 30s");
    ASSERT_TRUE(SaveTemplateState(path, p.miner()).ok());
  }
  {
    auto miner = LoadTemplateState(path, {});
    ASSERT_TRUE(miner.ok()) << miner.status().ToString();
    auto p = NewPipeline(std::move(*miner));
    // Same messages in another order, with other values: same ids.
    EXPECT_EQ(p.AddLine("link eth1 down after 2s"), net_id);
    EXPECT_EQ(p.AddLine("disk usage of sdb is 95%"), disk_id);
    // A new message gets a new id after the known ones.
    uint64_t fresh = p.AddLine("service api restarted by operator");
    EXPECT_GT(fresh, std::max(disk_id, net_id));
    EXPECT_EQ(p.miner().TemplateText(net_id), "link <*> down after <*>");
    ASSERT_TRUE(SaveTemplateState(path, p.miner()).ok());
  }
  auto again = LoadTemplateState(path, {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 3u);
  for (const auto& t : again->Templates()) {
    if (t.id == disk_id) {
      EXPECT_EQ(t.count, 2u);
    }
  }
}

TEST_F(TemplateStateTest, CorruptStateNamesTheFile) {
  const std::string path = dir_ + "/state.json";
  std::ofstream(path) << "{not json";
  auto r = LoadTemplateState(path, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find(path), std::string::npos);
}

TEST_F(TemplateStateTest, SaveCreatesDirectoriesAndLeavesNoTemporaryFile) {
  const std::string path = dir_ + "/a/b/templates.json";
  auto p = NewPipeline();
  p.AddLine("hello world");
  ASSERT_TRUE(SaveTemplateState(path, p.miner()).ok());
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/a/b")) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

}  // namespace
}  // namespace clawback::learn
