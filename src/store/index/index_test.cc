#include <gtest/gtest.h>

#include <thread>

#include "store/index/index_file.h"
#include "store/index/master_index.h"

namespace clawback::store {
namespace {

// The golden repository's index plaintext (spec §18.5).
constexpr char kGoldenIndex[] =
    R"({"packs":[{"id":"b299627b93be10ea70ff4c0edd6c5d7f46d28e22c5cd503c8c33c06cb4bcda4b","blobs":[{"id":"fbbd69198637d5360353c39796181175de6311c2a61abe2fe6392c938018660f","type":"data","offset":0,"length":45},{"id":"2816597888e4a0d3a36b82b83316ab32680eb8f00f8cd3b904d681246d285a0e","type":"data","offset":45,"length":49,"uncompressed_length":100}]},{"id":"cd938dacea5ef4d6f6a86d62989fe91138821c2075065c8e24685f8748c59140","blobs":[{"id":"7bd7c42c3ade637f520a6421a46065d3b46644a509dd2fa0117940edd7cedbbb","type":"tree","offset":0,"length":549}]}]})"
    "\n";

TEST(IndexFile, ParsesAndReencodesGoldenIndexByteForByte) {
  auto idx = IndexFile::Parse(kGoldenIndex);
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  ASSERT_EQ(idx->packs.size(), 2u);
  EXPECT_EQ(idx->blob_count(), 3u);
  EXPECT_EQ(idx->packs[0].blobs[1].uncompressed_length, 100u);
  EXPECT_EQ(idx->packs[1].blobs[0].type, BlobType::kTree);
  EXPECT_FALSE(idx->old_format);
  EXPECT_EQ(idx->ToJson(), kGoldenIndex);
}

TEST(IndexFile, SupersedesAndOldFormat) {
  IndexFile f;
  f.supersedes.push_back(Id::Hash("old"));
  f.packs.push_back({Id::Hash("p"), {{Id::Hash("b"), BlobType::kData, 0, 40, 0}}});
  std::string json = f.ToJson();
  EXPECT_EQ(json.rfind("{\"supersedes\":[\"" + Id::Hash("old").Hex() + "\"],\"packs\":", 0), 0u);
  auto back = IndexFile::Parse(json);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->supersedes, f.supersedes);
  EXPECT_EQ(back->packs[0].blobs, f.packs[0].blobs);

  auto old = IndexFile::Parse(R"([{"id":")" + Id::Hash("p").Hex() + R"(","blobs":[{"id":")" + Id::Hash("b").Hex() +
                              R"(","type":"data","offset":0,"length":40}]}])");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_TRUE(old->old_format);
  EXPECT_EQ(old->blob_count(), 1u);
}

TEST(IndexFile, RejectsGarbage) {
  std::string id = Id::Hash("x").Hex();
  for (const std::string& bad : std::vector<std::string>{
           std::string("nope"), std::string("42"), std::string(R"({"packs":{}})"),
           R"({"packs":[{"id":"zz","blobs":[]}]})",
           R"({"packs":[{"id":")" + id + R"(","blobs":[{"id":")" + id + R"(","type":"fish","offset":0,"length":40}]}]})",
           R"({"packs":[{"id":")" + id + R"(","blobs":[{"id":")" + id + R"(","type":"data","offset":-1,"length":40}]}]})",
           R"({"packs":[{"id":")" + id + R"(","blobs":[{"id":")" + id + R"(","type":"data","length":40}]}]})",
           R"({"packs":[{"id":")" + id + R"(","blobs":[{"id":")" + id + R"(","type":"data","offset":0,"length":5e9}]}]})",
           R"({"packs":[{"id":")" + id + R"(","blobs":[{"id":")" + id + R"(","type":"data","offset":0,"length":4}]}]})",
           R"({"supersedes":"x","packs":[]})",
       }) {
    auto r = IndexFile::Parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << bad;
    }
  }
}

TEST(MasterIndex, LookupDuplicatesAndIdempotentPacks) {
  MasterIndex mi;
  Id blob = Id::Hash("blob");
  Id p1 = Id::Hash("p1"), p2 = Id::Hash("p2");
  mi.AddPack(p1, {{blob, BlobType::kData, 0, 50, 0}});
  mi.AddPack(p2, {{blob, BlobType::kData, 10, 50, 0}, {blob, BlobType::kTree, 60, 40, 0}});
  mi.AddPack(p1, {{blob, BlobType::kData, 0, 50, 0}});  // the same pack again: no duplicate
  EXPECT_EQ(mi.blob_count(), 3u);
  EXPECT_EQ(mi.pack_count(), 2u);
  EXPECT_EQ(mi.LookupAll({blob, BlobType::kData}).size(), 2u);
  auto tree = mi.Lookup({blob, BlobType::kTree});
  ASSERT_TRUE(tree.has_value());
  EXPECT_EQ(tree->pack, p2);
  EXPECT_EQ(tree->blob.offset, 60u);
  EXPECT_FALSE(mi.Has({Id::Hash("nope"), BlobType::kData}));
  auto blobs = mi.PackBlobs(p2);
  ASSERT_EQ(blobs.size(), 2u);
  EXPECT_LT(blobs[0].offset, blobs[1].offset);
  size_t n = 0;
  mi.ForEach([&](const Id&, const PackedBlob&) { ++n; });
  EXPECT_EQ(n, 3u);
  mi.Clear();
  EXPECT_EQ(mi.blob_count(), 0u);
  EXPECT_FALSE(mi.Has({blob, BlobType::kData}));
}

TEST(MasterIndex, MillionBlobsConcurrentReaders) {
  MasterIndex mi;
  constexpr uint32_t kBlobs = 1000000;
  std::vector<PackedBlob> pack;
  for (uint32_t i = 0; i < kBlobs; ++i) {
    Id id;
    std::memcpy(id.mutable_data(), &i, sizeof i);
    id = Id::Hash(std::string_view(reinterpret_cast<const char*>(id.data()), 32));
    pack.push_back({id, BlobType::kData, i * 64, 64, 0});
    if (pack.size() == 10000) {
      mi.AddPack(Id::Hash(std::to_string(i)), pack);
      pack.clear();
    }
  }
  EXPECT_EQ(mi.blob_count(), kBlobs);
  EXPECT_EQ(mi.pack_count(), 100u);
  std::vector<std::thread> readers;
  std::atomic<uint32_t> found{0};
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      for (uint32_t i = static_cast<uint32_t>(t); i < kBlobs; i += 2) {
        Id id;
        std::memcpy(id.mutable_data(), &i, sizeof i);
        id = Id::Hash(std::string_view(reinterpret_cast<const char*>(id.data()), 32));
        auto loc = mi.Lookup({id, BlobType::kData});
        if (loc && loc->blob.offset == i * 64) ++found;
      }
    });
  }
  for (auto& r : readers) r.join();
  EXPECT_EQ(found.load(), kBlobs);
}

}  // namespace
}  // namespace clawback::store
