// Every parser of repository bytes must turn garbage into a Status, never crash or hang.
// Deterministic mutations (bit flips, truncations, splices) of valid inputs — a fast,
// always-on companion to the libFuzzer targets in fuzz/.
#include <gtest/gtest.h>

#include <random>

#include "store/config.h"
#include "store/crypto/key_file.h"
#include "store/index/index_file.h"
#include "store/pack/pack.h"
#include "store/snapshot.h"
#include "store/tree.h"
#include "store/unpacked.h"

namespace clawback::store {
namespace {

std::vector<std::string> Mutations(const std::string& seed, int count, uint32_t rng_seed) {
  std::mt19937 rng(rng_seed);
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    std::string s = seed;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      size_t pos = rng() % s.size();
      switch (rng() % 5) {
        case 0:
          s[pos] = static_cast<char>(s[pos] ^ (1 << (rng() % 8)));
          break;
        case 1:
          s.resize(pos);
          break;
        case 2:
          s.insert(pos, 1, "{}[]\",:\\0-9e"[rng() % 12]);
          break;
        case 3:
          s.erase(pos, 1 + rng() % 8);
          break;
        default:
          s[pos] = static_cast<char>(rng() % 256);
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

Node SampleFile() {
  Node n;
  n.name = "we\"ird\tname é \xff.txt";
  n.type = NodeType::kFile;
  n.mode = 0644;
  n.mtime = Timestamp{1700000000, 123, 3600};
  n.size = 10;
  n.links = 1;
  n.inode = 1ull << 60;
  n.xattrs.push_back({"user.x", "v"});
  n.content = {Id::Hash("a"), Id::Hash("b")};
  return n;
}

TEST(ParserGarbage, TreeJson) {
  Node dir;
  dir.name = "d";
  dir.type = NodeType::kDir;
  dir.subtree = Id::Hash("t");
  Tree t{{SampleFile(), dir}};
  ASSERT_TRUE(t.Sort().ok());
  int ok = 0;
  for (const auto& m : Mutations(t.ToJson(), 3000, 1)) {
    auto r = Tree::Parse(m);
    if (r.ok()) {
      ++ok;
      EXPECT_TRUE(Tree::Parse(r->ToJson()).ok());
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    }
  }
  EXPECT_LT(ok, 3000);
}

TEST(ParserGarbage, SnapshotJson) {
  Snapshot s;
  s.time = Timestamp::Now();
  s.tree = Id::Hash("t");
  s.parent = Id::Hash("p");
  s.paths = {"/a"};
  s.tags = {"x=y"};
  for (const auto& m : Mutations(s.ToJson(), 3000, 2)) {
    auto r = Snapshot::Parse(m);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    }
  }
}

TEST(ParserGarbage, IndexJson) {
  IndexFile f;
  f.supersedes = {Id::Hash("old")};
  f.packs.push_back({Id::Hash("p"), {{Id::Hash("a"), BlobType::kData, 0, 40, 10}, {Id::Hash("b"), BlobType::kTree, 40, 60, 0}}});
  for (const auto& m : Mutations(f.ToJson(), 3000, 3)) {
    auto r = IndexFile::Parse(m);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    }
  }
}

TEST(ParserGarbage, PackHeadersAndPacks) {
  Key key = Key::Random();
  PackWriter w;
  for (int i = 0; i < 5; ++i) {
    std::string stored;
    std::string plain(1000 + i, static_cast<char>('a' + i));
    uint32_t ulen = SealBlobAppend(key, plain, i % 2 == 0, 3, &stored);
    w.Add(i == 4 ? BlobType::kTree : BlobType::kData, Id::Hash(plain), stored, ulen);
  }
  auto f = w.Finish(key);
  std::string header = EncodePackHeader(f.blobs);
  for (const auto& m : Mutations(header, 3000, 4)) {
    auto r = DecodePackHeader(m);
    if (r.ok()) {
      EXPECT_EQ(EncodePackHeader(*r), m);
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    }
  }
  for (const auto& m : Mutations(f.bytes, 300, 5)) {
    auto r = ParsePack(key, m);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    }
  }
}

TEST(ParserGarbage, UnpackedConfigAndKeyFiles) {
  Key key = Key::Random();
  std::string file = EncodeUnpacked(key, R"({"hello":"world"})");
  for (const auto& m : Mutations(file, 500, 6)) {
    auto r = DecodeUnpacked(key, m);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    }
  }
  // Plaintexts that pass the MAC but are not valid zstd or JSON.
  for (const auto& m : Mutations(std::string("\x02") + "not zstd at all", 200, 7)) {
    (void)DecodeUnpacked(key, Seal(key, m));
  }
  RepoConfig c;
  c.id = Id::Hash("x").Hex();
  c.chunker_polynomial = 0x3da3358b4dc173;
  for (const auto& m : Mutations(c.ToJson(), 1000, 8)) (void)RepoConfig::Parse(m);
  auto kf = CreateKeyFile(key, "pw", {1024, 8, 1}, "u", "h");
  ASSERT_TRUE(kf.ok());
  for (const auto& m : Mutations(kf->ToJson(), 1000, 9)) {
    auto r = KeyFile::Parse(m);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    }
  }
}

}  // namespace
}  // namespace clawback::store
