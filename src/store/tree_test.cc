#include "store/tree.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/snapshot.h"

namespace clawback::store {
namespace {

// The golden repository's tree blob (spec §18.5), without its final newline.
constexpr char kGoldenTree[] =
    R"({"nodes":[{"name":"a.txt","type":"file","mode":420,"mtime":"2024-01-01T00:00:00Z","atime":"2024-01-01T00:00:00Z","ctime":"2024-01-01T00:00:00Z","uid":0,"gid":0,"size":100,"links":1,"content":["2816597888e4a0d3a36b82b83316ab32680eb8f00f8cd3b904d681246d285a0e"]},{"name":"hello.txt","type":"file","mode":420,"mtime":"2024-01-01T00:00:00Z","atime":"2024-01-01T00:00:00Z","ctime":"2024-01-01T00:00:00Z","uid":0,"gid":0,"size":13,"links":1,"content":["fbbd69198637d5360353c39796181175de6311c2a61abe2fe6392c938018660f"]}]})";

Node FileNode(std::string name, std::string_view content) {
  Node n;
  n.name = std::move(name);
  n.type = NodeType::kFile;
  n.mode = 0644;
  n.mtime = n.atime = n.ctime = Timestamp::Parse("2024-01-01T00:00:00Z").value();
  n.size = content.size();
  n.links = 1;
  if (!content.empty()) n.content.push_back(Id::Hash(content));
  return n;
}

TEST(Tree, GoldenTreeBytesAndId) {
  Tree t;
  t.nodes.push_back(FileNode("hello.txt", "hello restic\n"));
  t.nodes.push_back(FileNode("a.txt", std::string(100, 'a')));
  ASSERT_TRUE(t.Sort().ok());
  EXPECT_EQ(t.ToJson(), std::string(kGoldenTree) + "\n");
  EXPECT_EQ(t.ComputeId().Hex(), "7bd7c42c3ade637f520a6421a46065d3b46644a509dd2fa0117940edd7cedbbb");
  auto back = Tree::Parse(t.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->nodes, t.nodes);
  EXPECT_NE(back->Find("hello.txt"), nullptr);
  EXPECT_EQ(back->Find("nope"), nullptr);
}

TEST(Tree, EmptyTreeId) {
  Tree t;
  EXPECT_EQ(t.ToJson(), "{\"nodes\":[]}\n");
  EXPECT_EQ(t.ComputeId().Hex(), "ac08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523fee8");
  EXPECT_TRUE(Tree::Parse("{\"nodes\":null}").value().nodes.empty());
  EXPECT_TRUE(Tree::Parse("{\"extra\":1,\"nodes\":[],\"more\":[1]}").ok());
}

TEST(Tree, NodeKindsAsRestic014WritesThem) {
  Node dir;
  dir.name = "sub";
  dir.type = NodeType::kDir;
  dir.mode = GoModeFromPosix(040755);
  EXPECT_EQ(dir.mode, 2147484141u);
  EXPECT_EQ(GoModeFromPosix(041777), 2148532735u);
  EXPECT_EQ(GoModeFromPosix(0104755), 8389101u);
  EXPECT_EQ(GoModeFromPosix(0120777), 134218239u);
  EXPECT_EQ(GoModeFromPosix(010644), 33554852u);
  EXPECT_EQ(GoModeFromPosix(020644), 69206436u);
  EXPECT_EQ(GoModeFromPosix(060644), 67109284u);
  EXPECT_EQ(PosixModeFromGo(2148532735u), 01777u);
  EXPECT_EQ(GoDeviceNumber(1, 3), 259u);
  EXPECT_EQ(GoDeviceNumber(7, 0), 1792u);
  EXPECT_EQ(GoDeviceNumber(254, 0), 65024u);
  dir.subtree = Id::Hash("{\"nodes\":[]}\n");
  dir.inode = 1ull << 60;  // beyond 2^53: must not go through a double
  dir.device_id = 65024;
  dir.uid = 1000;
  dir.user = "me";
  std::string json;
  AppendNodeJson(dir, &json);
  EXPECT_EQ(json,
            "{\"name\":\"sub\",\"type\":\"dir\",\"mode\":2147484141,\"mtime\":\"0001-01-01T00:00:00Z\",\"atime\":\"0001-01-"
            "01T00:00:00Z\",\"ctime\":\"0001-01-01T00:00:00Z\",\"uid\":1000,\"gid\":0,\"user\":\"me\",\"inode\":"
            "1152921504606846976,\"device_id\":65024,\"content\":null,\"subtree\":\"ac08ce34ba4f8123618661bef2425f7028ffb9"
            "ac740578a3ee88684d2523fee8\"}");
  Node empty = FileNode("empty", "");
  json.clear();
  AppendNodeJson(empty, &json);
  EXPECT_NE(json.find("\"links\":1,\"content\":[]}"), std::string::npos);
  EXPECT_EQ(json.find("\"size\""), std::string::npos);

  Node link;
  link.name = "ln";
  link.type = NodeType::kSymlink;
  link.mode = 134218239;
  link.links = 1;
  link.linktarget = "a<b";
  link.xattrs.push_back({"user.test", std::string("hello\0\xff", 7)});
  json.clear();
  AppendNodeJson(link, &json);
  EXPECT_NE(json.find(R"("links":1,"linktarget":"a\u003cb","extended_attributes":[{"name":"user.test","value":"aGVsbG8A/w=="}],"content":null})"),
            std::string::npos)
      << json;
  Tree t{{dir, empty, link}};
  ASSERT_TRUE(t.Sort().ok());
  auto back = Tree::Parse(t.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->nodes, t.nodes);
}

TEST(Tree, OddNamesRoundTripAndSortByRawBytes) {
  Tree t;
  for (std::string name : {std::string("we\"ird\tname é.txt"), std::string("bad\xffname"), std::string("ctl\x01\x7f"),
                           std::string("nb\u00a0sp😀"), std::string("a<b>&c"), std::string("Z")}) {
    t.nodes.push_back(FileNode(name, "x"));
  }
  ASSERT_TRUE(t.Sort().ok());
  EXPECT_EQ(t.nodes.front().name, "Z");
  EXPECT_EQ(t.nodes.back().name, "we\"ird\tname é.txt");
  std::string json = t.ToJson();
  EXPECT_NE(json.find("\"name\":\"we\\\\\\\"ird\\\\tname é.txt\""), std::string::npos);
  EXPECT_NE(json.find("\"name\":\"bad\\\\xffname\""), std::string::npos);
  auto back = Tree::Parse(json);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->nodes, t.nodes);
  // Duplicates are refused.
  t.nodes.push_back(FileNode("Z", "y"));
  EXPECT_EQ(t.Sort().code(), StatusCode::kInvalidArgument);
}

TEST(Tree, NewerResticFieldsAndUnknownKeys) {
  auto t = Tree::Parse(
      R"({"nodes":[{"name":"l","type":"symlink","mtime":"2024-01-01T00:00:00+02:00","atime":"2024-01-01T00:00:00Z","ctime":"2024-01-01T00:00:00Z","uid":0,"gid":0,"linktarget":"\ufffd","linktarget_raw":"/w==","generic_attributes":{"b":1,"a":"x"},"future_field":[1,2],"content":null}]})");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->nodes[0].linktarget, "\xff");
  EXPECT_EQ(t->nodes[0].generic_attributes, R"({"a":"x","b":1})");
  EXPECT_EQ(t->nodes[0].mtime.utc_offset_seconds, 7200);
  std::string json;
  AppendNodeJson(t->nodes[0], &json);
  EXPECT_NE(json.find(R"("linktarget":"\ufffd","linktarget_raw":"/w==","generic_attributes":{"a":"x","b":1})"),
            std::string::npos)
      << json;
}

TEST(Tree, RejectsGarbage) {
  for (const char* bad : {"", "[]", "{}", "{\"nodes\":{}}", "{\"nodes\":[1]}",
                          R"({"nodes":[{"name":"a\"b"}]})",  // unquotes to an unescaped quote
                          R"({"nodes":[{"name":"\\q"}]})", R"({"nodes":[{"name":"a","size":-1}]})",
                          R"({"nodes":[{"name":"a","mtime":"yesterday"}]})", R"({"nodes":[{"name":"a","content":["zz"]}]})",
                          R"({"nodes":[{"name":"a","subtree":5}]})", R"({"nodes":[{"name":"a","uid":5000000000}]})",
                          R"({"nodes":[{"name":"a","linktarget_raw":"%%"}]})"}) {
    auto r = Tree::Parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << bad;
    }
  }
  auto unknown = Tree::Parse(R"({"nodes":[{"name":"a","type":"whatever"}]})");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->nodes[0].type, NodeType::kUnknown);
  EXPECT_EQ(unknown->nodes[0].type_name, "whatever");
}

// Tree::Parse tries a parser for the compact shape first and falls back to the general
// one: on any input both must agree — same nodes, or the same error. Trees as written, and
// thousands of mutations of them (flipped, dropped and inserted bytes).
TEST(Tree, FastParserAgreesWithTheGeneralOne) {
  std::vector<std::string> docs = {std::string(kGoldenTree) + "\n", "{\"nodes\":[]}\n", "{\"nodes\":null}"};
  {
    Tree t;
    for (int i = 0; i < 6; ++i) {
      Node n = FileNode("f" + std::to_string(i), std::string(static_cast<size_t>(i) * 7, 'x'));
      n.uid = 1000u * static_cast<uint32_t>(i);
      n.user = i % 2 ? "me" : "";
      n.inode = (1ull << 60) + static_cast<uint64_t>(i);
      n.mtime = Timestamp::Parse("2026-11-27T01:46:16.517340279+01:00").value();
      if (i == 3) n.xattrs.push_back({"user.k", std::string("v\0\xff", 3)});
      if (i == 4) {
        n.type = NodeType::kSymlink;
        n.linktarget = "../target";
        n.content.clear();
      }
      if (i == 5) {
        n.type = NodeType::kDir;
        n.mode = GoModeFromPosix(040755);
        n.content.clear();
        n.subtree = Id::Hash("sub");
      }
      t.nodes.push_back(n);
    }
    t.nodes.push_back(FileNode("odd \"name\"\t\xff", "y"));
    ASSERT_TRUE(t.Sort().ok());
    docs.push_back(t.ToJson());
  }
  auto agree = [](const std::string& doc) {
    auto fast = Tree::Parse(doc);
    auto general = Tree::ParseGeneral(doc);
    ASSERT_EQ(fast.ok(), general.ok()) << doc;
    if (fast.ok()) {
      EXPECT_EQ(fast->nodes, general->nodes) << doc;
    } else {
      EXPECT_EQ(fast.status().ToString(), general.status().ToString()) << doc;
    }
  };
  for (const auto& d : docs) {
    ASSERT_TRUE(Tree::ParseGeneral(d).ok()) << d;
    agree(d);
  }
  const std::string alphabet = "0123456789\"{}[],:\\nul ae-.+Zx\n\x01\xc3";
  uint64_t seed = 42;
  auto next = [&] {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return seed >> 33;
  };
  for (int round = 0; round < 20000; ++round) {
    std::string d = docs[next() % docs.size()];
    for (int edits = 1 + static_cast<int>(next() % 3); edits > 0 && !d.empty(); --edits) {
      size_t at = next() % d.size();
      switch (next() % 3) {
        case 0: d[at] = alphabet[next() % alphabet.size()]; break;
        case 1: d.erase(at, 1 + next() % 4); break;
        default: d.insert(at, 1, alphabet[next() % alphabet.size()]); break;
      }
    }
    agree(d);
    if (HasFatalFailure() || HasNonfatalFailure()) break;
  }
}

// §9: a real restic 0.14 snapshot after `tag --add`.
constexpr char kResticSnapshot[] =
    R"({"time":"2026-11-27T01:46:16.517340279Z","parent":"b65adef2731f5ae6e76e39ac83d308168532ae5c02ae70a1b1b8db97a15467c8","tree":"44eac35af91447095912c40ce8eb3f91aeb0ba9a0a2e4ffd9e21bb72ab8590df","paths":["/tmp/restic-verify/src"],"hostname":"verifyhost","username":"root","excludes":["*.tmp"],"tags":["t1","t2","newtag"],"original":"6235bef8bc996bfeab4668e62e26061023f7f3b9ec2188082f5dc12e9d14f2c8"})";

TEST(Snapshot, ResticSnapshotRoundTripsByteForByte) {
  auto s = Snapshot::Parse(kResticSnapshot);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->tags.size(), 3u);
  EXPECT_TRUE(s->HasTag("newtag"));
  EXPECT_FALSE(s->HasTag("x"));
  ASSERT_TRUE(s->parent.has_value());
  EXPECT_EQ(s->ToJson(), kResticSnapshot);
  constexpr char kGolden[] =
      R"({"time":"2024-01-01T00:00:00Z","tree":"7bd7c42c3ade637f520a6421a46065d3b46644a509dd2fa0117940edd7cedbbb","paths":["/golden"],"hostname":"golden","username":"golden"})";
  EXPECT_EQ(Snapshot::Parse(kGolden).value().ToJson(), kGolden);
}

TEST(Snapshot, NewerFieldsUidAndGarbage) {
  auto s = Snapshot::Parse(
      R"({"time":"2024-01-01T00:00:00Z","tree":"7bd7c42c3ade637f520a6421a46065d3b46644a509dd2fa0117940edd7cedbbb","paths":null,"uid":1000,"gid":100,"program_version":"restic 0.17.0","summary":{"files_new":3},"zzz":true})");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->uid, 1000u);
  EXPECT_EQ(s->ToJson(),
            R"({"time":"2024-01-01T00:00:00Z","tree":"7bd7c42c3ade637f520a6421a46065d3b46644a509dd2fa0117940edd7cedbbb","paths":[],"uid":1000,"gid":100,"program_version":"restic 0.17.0","summary":{"files_new":3}})");
  for (const char* bad : {"", "{}", "[]", R"({"time":"2024-01-01T00:00:00Z"})", R"({"time":"x","tree":"00"})",
                          R"({"time":"2024-01-01T00:00:00Z","tree":"7bd7c42c3ade637f520a6421a46065d3b46644a509dd2fa0117940edd7cedbbb","tags":[1]})",
                          R"({"time":"2024-01-01T00:00:00Z","tree":"0000000000000000000000000000000000000000000000000000000000000000"})"}) {
    EXPECT_FALSE(Snapshot::Parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace clawback::store
