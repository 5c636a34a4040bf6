#include "learn/index/hnsw_index.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "common/testing/temp_dir.h"

namespace clawback::learn {
namespace {

std::vector<float> Unit(std::mt19937& rng, size_t dim) {
  std::normal_distribution<float> n;
  std::vector<float> v(dim);
  float s = 0;
  for (auto& x : v) {
    x = n(rng);
    s += x * x;
  }
  for (auto& x : v) x /= std::sqrt(s);
  return v;
}

class HnswIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    opts_.dir = dir_.string();
    opts_.dimension = 32;
  }
  test::TempDir tmp_{"clawback-hnsw-test"};
  const std::filesystem::path dir_ = tmp_.path() / "index";  // the index creates it
  HnswOptions opts_;
};

TEST_F(HnswIndexTest, SurvivesRestartAndGrowsIncrementally) {
  std::mt19937 rng(7);
  std::vector<std::vector<float>> vecs;
  for (int i = 0; i < 100; ++i) vecs.push_back(Unit(rng, 32));
  {
    auto idx = HnswIndex::Open(opts_);
    ASSERT_TRUE(idx.ok()) << idx.status().ToString();
    for (int i = 0; i < 60; ++i)  // more than the initial capacity (64 would not be exceeded; 60 + 40 is)
      ASSERT_TRUE((*idx)->Upsert("k" + std::to_string(i), vecs[i], {{"env", i % 2 ? "prod" : "dev"}}).ok());
    ASSERT_TRUE((*idx)->Flush().ok());
    EXPECT_EQ(*(*idx)->Size(), 60u);
  }
  const auto size_after_first = std::filesystem::file_size(dir_ / "situations.hnsw");
  {
    auto idx = HnswIndex::Open(opts_);  // a restart
    ASSERT_TRUE(idx.ok()) << idx.status().ToString();
    EXPECT_EQ(*(*idx)->Size(), 60u);
    auto hits = (*idx)->Search(vecs[17], 1, nlohmann::json::object());
    ASSERT_TRUE(hits.ok());
    ASSERT_EQ(hits->size(), 1u);
    EXPECT_EQ((*hits)[0].key, "k17");
    EXPECT_NEAR((*hits)[0].score, 1.0, 1e-4);
    EXPECT_EQ((*hits)[0].payload["env"], "prod");
    for (int i = 60; i < 100; ++i)  // grows past the loaded capacity
      ASSERT_TRUE((*idx)->Upsert("k" + std::to_string(i), vecs[i], {{"env", "prod"}}).ok());
    ASSERT_TRUE((*idx)->Flush().ok());
  }
  EXPECT_GT(std::filesystem::file_size(dir_ / "situations.hnsw"), size_after_first);
  auto idx = HnswIndex::Open(opts_);
  ASSERT_TRUE(idx.ok());
  EXPECT_EQ(*(*idx)->Size(), 100u);
  for (int i : {0, 42, 59, 60, 99}) {
    auto hits = (*idx)->Search(vecs[i], 3, nlohmann::json::object());
    ASSERT_TRUE(hits.ok());
    ASSERT_FALSE(hits->empty());
    EXPECT_EQ((*hits)[0].key, "k" + std::to_string(i));
  }
  // A filter keeps only matching payloads.
  auto dev = (*idx)->Search(vecs[3], 5, {{"env", "dev"}});
  ASSERT_TRUE(dev.ok());
  ASSERT_FALSE(dev->empty());
  for (const auto& h : *dev) EXPECT_EQ(h.payload["env"], "dev") << h.key;
  EXPECT_NE((*dev)[0].key, "k3");  // k3 is prod
}

TEST_F(HnswIndexTest, UpsertOfAKnownKeyReplacesItsVector) {
  std::mt19937 rng(3);
  auto a = Unit(rng, 32), b = Unit(rng, 32);
  auto idx = HnswIndex::Open(opts_);
  ASSERT_TRUE(idx.ok());
  ASSERT_TRUE((*idx)->Upsert("x", a, {}).ok());
  ASSERT_TRUE((*idx)->Upsert("y", b, {}).ok());
  ASSERT_TRUE((*idx)->Upsert("x", b, {{"v", 2}}).ok());
  EXPECT_EQ(*(*idx)->Size(), 2u);
  auto hits = (*idx)->Search(b, 2, nlohmann::json::object());
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_NEAR((*hits)[0].score, 1.0, 1e-4);
  EXPECT_NEAR((*hits)[1].score, 1.0, 1e-4);
}

TEST_F(HnswIndexTest, RejectsWrongDimensionsAndAChangedConfig) {
  auto idx = HnswIndex::Open(opts_);
  ASSERT_TRUE(idx.ok());
  EXPECT_EQ((*idx)->Upsert("x", std::vector<float>(31, 0.1f), {}).code(), StatusCode::kInvalidArgument);
  std::vector<float> v(32, 0.0f);
  v[0] = 1;
  ASSERT_TRUE((*idx)->Upsert("x", v, {}).ok());
  ASSERT_TRUE((*idx)->Flush().ok());
  idx->reset();
  HnswOptions other = opts_;
  other.dimension = 64;
  EXPECT_EQ(HnswIndex::Open(other).status().code(), StatusCode::kFailedPrecondition);
  // A damaged key list is reported, not loaded.
  FILE* f = std::fopen((dir_ / "situations.json").c_str(), "wb");
  std::fputs("{not json", f);
  std::fclose(f);
  EXPECT_EQ(HnswIndex::Open(opts_).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace clawback::learn
