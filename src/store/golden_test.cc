// The deterministic "golden" repository of the format spec (§18.5): every nonce, salt and key
// fixed. We rebuild it byte for byte with our own encoders, then open and read it through
// Repository like any other repository.
#include <gtest/gtest.h>

#include <map>

#include "store/backend/mem_backend.h"
#include "store/config.h"
#include "store/crypto/key_file.h"
#include "store/repository.h"

namespace clawback::store {
namespace {

constexpr char kKeyFile[] = R"__({"created":"2024-01-01T00:00:00Z","username":"golden","hostname":"golden","kdf":"scrypt","N":16384,"r":8,"p":1,"salt":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==","data":"UFBQUFBQUFBQUFBQUFBQUI6bvdff5b7Dj+4EhiJjOlF8lZ8TWzJ/anVsWrldgnCYbXh/LakFGmZhv52fOXwRB/7fbbXVSKSl2hdBSpUC8XJxrXXwzburOrMBzCRbkMQNEzQJ/MvqQMMuq9Q15o1GWSgXegcBVDCUH1KECZtZv5c9LLUt3kil3hLg267LBF9+50Q4hyq1pckG3c7CHW4ooQ=="})__";
constexpr char kConfigHex[] =
    "60606060606060606060606060606060fda178e22b691c867a7cfc932a81624bc597ada4cfd1e87deccbd8c2393a077396199f4b86d238"
    "9490a0ed840a7c89ca268afec8500e7fb1ef2bb15ef7e3b89340f60c7c5111fe38374ac6483c5567dc2fe3c7266110c27b809d05578f57"
    "0b8a1e983faaab1ec3eabe6baa3a8083a4a54ca70e161071d6d9367f32dd0b163803e3684e977627cdd9c208bf";
constexpr char kTreePackHex[] =
    "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b199724dec2fd01cfb8c84bddadc85e7014de7d51e542b1d19c463a657ebdb35c76cf1f90c7a74b2"
    "b29d0a41e4a79f2b5ef27aa763b69ed6522fb1034379fd8555578bdc88fae51f1487e4f8f6581f38a756a8906cf42dbe6da2fd39d784d8"
    "f581acdf3ddbd6d762701e8a5e4c60fce15702dd1926ddd392c90500b1d5cd1f94eadf9ce637c82027f12e7681e0cd5986bde439ede256"
    "4a2c4602e7777afe0bb53eb707a20565e59fe197948dd68e6592398ae28f4b7feb673792022631ac4840bb427c0dff697c4167eedcd735"
    "8a3ae28d400c9e99cbf887e4dd3448372a6d46e899e987447398b9699be99c078677ff5f34c52189b4e9b233143f8bb03b9a002d00c10e"
    "11d5a0329e0446b3223199a0a0c4c3c5dcbceb5c46d964ae44854d32fa66176da252028586a515e02175f4fc97d0b02ca6c2ebfe08ccfc"
    "b75b6ef4ab174f4af492b9a4d247ef31c4345498c408ce02f7bf72e6975bff990ad54c92c94336d729020ac272ec95be2b660b596b4d9a"
    "a2dd41a49a148b7de09124c204e540235e603231a7ae71a470cda77446d3130b1e22d107a191b029cb02a861eb419ec9a93629a8af9636"
    "52c3415afd7cb6f11c2bfea0dcabdab41a87007da0262139b7f50c2dbc58889521152325659c856121475f80193c459551c0d197549c34"
    "40767701008b8119d70cc11145b54590ccea344ba416e1618cae243d76e8923470c557ac382cb569a8790055bf33557e9dcf2d17e7e4b3"
    "b3b3b3b3b3b3b3b3b3b3b3b3b3b3b36c8d1259e77aced234ada66252bbb91bdc5137479fa478baf3c0a42d9aa44c78edc5a292d969e736"
    "4d8a01cbb82c85d5cd334e8fae45000000";

std::string Range(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) s.push_back(static_cast<char>(i));
  return s;
}
std::string Nonce(uint8_t b) { return std::string(16, static_cast<char>(b)); }
const uint8_t* U(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }
Timestamp Jan2024() { return Timestamp::Parse("2024-01-01T00:00:00Z").value(); }

Node FileNode(std::string name, std::string_view content) {
  Node n;
  n.name = std::move(name);
  n.type = NodeType::kFile;
  n.mode = 0644;
  n.mtime = n.atime = n.ctime = Jan2024();
  n.size = content.size();
  n.links = 1;
  n.content.push_back(Id::Hash(content));
  return n;
}

// Builds every file of the golden repository into `mem`; returns them by path.
std::map<std::string, std::string> BuildGolden(MemBackend* mem) {
  std::map<std::string, std::string> files;
  Key master = Key::FromParts(Range(0x00, 0x20), Range(0x20, 0x30), Range(0x30, 0x40));
  EXPECT_TRUE(mem->Create().ok());

  KeyFile kf;
  kf.created = Jan2024();
  kf.username = kf.hostname = "golden";
  kf.params = {16384, 8, 1};
  kf.salt = Range(0, 64);
  auto dk = Scrypt("golden", kf.salt, 16384, 8, 1).value();
  EXPECT_EQ(ToHex(std::string(reinterpret_cast<const char*>(dk.data()), 64)),
            "233532574661de163f2b4418b15f4b433aa4358d2b8aa7ed035ec30919f66a8ed4c8413877e0815e6c1a219418e8c43a79f77956c275"
            "97f5e52bc5cb98eaa210");
  kf.data = Seal(KeyFromScrypt(dk), master.ToJson(), U(Nonce(0x50)));
  std::string key_json = kf.ToJson();
  files["keys/" + Id::Hash(key_json).Hex()] = key_json;

  RepoConfig config;
  config.id = std::string(64, '1');
  config.chunker_polynomial = 0x3da3358b4dc173;
  files["config"] = Seal(master, config.ToJson(), U(Nonce(0x60)));

  std::string hello = "hello restic\n", aaaa(100, 'a');
  PackWriter data_pack;
  data_pack.Add(BlobType::kData, Id::Hash(hello), Seal(master, hello, U(Nonce(0xa1))), 0);
  data_pack.Add(BlobType::kData, Id::Hash(aaaa),
                Seal(master, FromHex("28b52ffd005845000010616101003f012c").value(), U(Nonce(0xa2))), 100);
  auto p1 = data_pack.Finish(master, U(Nonce(0xa3)));
  files["data/" + p1.id.Hex()] = p1.bytes;

  Tree tree{{FileNode("hello.txt", hello), FileNode("a.txt", aaaa)}};
  EXPECT_TRUE(tree.Sort().ok());
  std::string tree_json = tree.ToJson();
  PackWriter tree_pack;  // the golden tree is stored uncompressed (type 1)
  tree_pack.Add(BlobType::kTree, Id::Hash(tree_json), Seal(master, tree_json, U(Nonce(0xb1))), 0);
  auto p2 = tree_pack.Finish(master, U(Nonce(0xb3)));
  files["data/" + p2.id.Hex()] = p2.bytes;

  IndexFile index;
  index.packs.push_back({p1.id, p1.blobs});
  index.packs.push_back({p2.id, p2.blobs});
  std::string index_file = Seal(master, index.ToJson(), U(Nonce(0xc0)));  // raw JSON, as the golden repo
  files["index/" + Id::Hash(index_file).Hex()] = index_file;

  Snapshot snap;
  snap.time = Jan2024();
  snap.tree = Id::Hash(tree_json);
  snap.paths = {"/golden"};
  snap.hostname = snap.username = "golden";
  std::string snap_file = Seal(master, snap.ToJson(), U(Nonce(0xd0)));
  files["snapshots/" + Id::Hash(snap_file).Hex()] = snap_file;

  for (const auto& [path, bytes] : files) {
    FileType t = FileType::kConfig;
    std::string name = path.substr(path.find('/') + 1);
    if (path.rfind("keys/", 0) == 0) t = FileType::kKey;
    if (path.rfind("data/", 0) == 0) t = FileType::kPack;
    if (path.rfind("index/", 0) == 0) t = FileType::kIndex;
    if (path.rfind("snapshots/", 0) == 0) t = FileType::kSnapshot;
    EXPECT_TRUE(mem->Save(t, path == "config" ? "config" : name, bytes).ok()) << path;
  }
  return files;
}

TEST(Golden, RebuildsTheSpecRepositoryByteForByte) {
  MemBackend mem;
  auto files = BuildGolden(&mem);
  ASSERT_EQ(files.size(), 6u);
  const std::string key = "keys/2e33f67d2517a0754794e003285a21fd54b5ced330c5d055cc4ec2ad39050c78";
  ASSERT_TRUE(files.count(key));
  EXPECT_EQ(files[key], kKeyFile);
  EXPECT_EQ(files[key].size(), 435u);
  EXPECT_EQ(ToHex(files["config"]), kConfigHex);
  const std::string p1 = "data/b299627b93be10ea70ff4c0edd6c5d7f46d28e22c5cd503c8c33c06cb4bcda4b";
  ASSERT_TRUE(files.count(p1));
  EXPECT_EQ(files[p1].size(), 208u);
  const std::string p2 = "data/cd938dacea5ef4d6f6a86d62989fe91138821c2075065c8e24685f8748c59140";
  ASSERT_TRUE(files.count(p2));
  EXPECT_EQ(ToHex(files[p2]), kTreePackHex);
  const std::string idx = "index/c24bdf11ca9266dbe5281a68bcebed6cc4f25b0b983b9fa487698e09dbbf6602";
  ASSERT_TRUE(files.count(idx));
  EXPECT_EQ(files[idx].size(), 573u);
  const std::string snap = "snapshots/97bcb0933a154ad71088dcbb96e009fcebd167afed01dc986fbb0eba2f418509";
  ASSERT_TRUE(files.count(snap));
  EXPECT_EQ(files[snap].size(), 197u);
}

TEST(Golden, ReadsThroughRepository) {
  MemBackend mem;
  BuildGolden(&mem);
  EXPECT_EQ(Repository::Open(&mem, "not golden").status().code(), StatusCode::kWrongPassword);
  auto repo = Repository::Open(&mem, "golden");
  ASSERT_TRUE(repo.ok()) << repo.status().ToString();
  EXPECT_EQ((*repo)->config().id, std::string(64, '1'));
  EXPECT_EQ((*repo)->config().chunker_polynomial, 0x3da3358b4dc173u);
  auto snaps = (*repo)->ListSnapshots();
  ASSERT_TRUE(snaps.ok()) << snaps.status().ToString();
  ASSERT_EQ(snaps->size(), 1u);
  EXPECT_EQ((*snaps)[0].id.Hex(), "97bcb0933a154ad71088dcbb96e009fcebd167afed01dc986fbb0eba2f418509");
  EXPECT_EQ((*snaps)[0].snapshot.paths, std::vector<std::string>{"/golden"});
  ASSERT_TRUE((*repo)->LoadIndex().ok());
  EXPECT_EQ((*repo)->index().blob_count(), 3u);
  auto tree = (*repo)->LoadTree((*snaps)[0].snapshot.tree);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  ASSERT_EQ(tree->nodes.size(), 2u);
  const Node* hello = tree->Find("hello.txt");
  const Node* a = tree->Find("a.txt");
  ASSERT_TRUE(hello && a);
  EXPECT_EQ((*repo)->LoadBlob(BlobType::kData, hello->content[0]).value(), "hello restic\n");
  EXPECT_EQ((*repo)->LoadBlob(BlobType::kData, a->content[0]).value(), std::string(100, 'a'));
}

}  // namespace
}  // namespace clawback::store
