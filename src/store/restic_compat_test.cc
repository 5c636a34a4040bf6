// Interoperability with the real restic 0.14 binary (label `compat`; skipped when restic is
// not installed). Both directions:
//   - restic writes (init + backup), we open it, list snapshots, walk every tree, check that
//     our re-encoding of each tree hashes to restic's tree id (dedup-identical JSON), that
//     our chunker cuts the big file exactly where restic did, and that file contents match;
//   - we write (into restic's repository and into one we initialised), restic verifies with
//     `check --read-data`, lists our snapshot and restores it byte for byte.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "common/testing/random_data.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "store/backend/local_backend.h"
#include "store/chunker/chunker.h"
#include "store/repository.h"

namespace clawback::store {
namespace {

namespace fs = std::filesystem;

using test::RandomBytes;

void WriteFile(const fs::path& p, const std::string& data) {
  std::ofstream f(p, std::ios::binary);
  f << data;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

class ResticCompat : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("restic version >/dev/null 2>&1") != 0) GTEST_SKIP() << "restic is not installed";
    tmp_.emplace("clawback-restic-compat");
    dir_ = tmp_->path();
    WriteFile(dir_ / "password", "compat-pass\n");
  }
  void TearDown() override {
    if (!dir_.empty()) {
      // restic makes its files read-only; make them removable first (tmp_ removes them).
      std::system(("chmod -R u+w '" + dir_.string() + "' 2>/dev/null").c_str());
    }
  }

  // Runs restic against `repo`; returns its exit status and captures stdout.
  int Restic(const fs::path& repo, const std::string& args, std::string* out = nullptr) {
    fs::path log = dir_ / "restic.out";
    std::string cmd = "cd '" + dir_.string() + "' && restic --no-cache -q -r '" + repo.string() + "' --password-file '" +
                      (dir_ / "password").string() + "' " + args + " >'" + log.string() + "' 2>&1";
    int rc = std::system(cmd.c_str());
    std::string text = ReadFile(log);
    if (out) *out = text;
    if (rc != 0) std::fprintf(stderr, "restic %s failed:\n%s\n", args.c_str(), text.c_str());
    return rc;
  }

  // Reassembles a file from its content blobs.
  std::string ReadContent(Repository* repo, const Node& node) {
    std::string data;
    for (const Id& id : node.content) {
      auto blob = repo->LoadBlob(BlobType::kData, id);
      EXPECT_OK(blob);
      if (blob.ok()) data += *blob;
    }
    return data;
  }

  // Walks the tree, re-encoding every tree blob and collecting files by path.
  void Walk(Repository* repo, const Id& tree_id, const std::string& prefix, std::map<std::string, Node>* files) {
    auto raw = repo->LoadBlob(BlobType::kTree, tree_id);
    ASSERT_OK(raw);
    auto tree = Tree::Parse(*raw);
    ASSERT_OK(tree);
    // Our encoding of restic's tree must be the same bytes, hence the same id.
    EXPECT_EQ(tree->ToJson(), *raw);
    EXPECT_EQ(tree->ComputeId(), tree_id);
    for (const Node& n : tree->nodes) {
      std::string path = prefix + "/" + n.name;
      (*files)[path] = n;
      if (n.type == NodeType::kDir) {
        ASSERT_TRUE(n.subtree.has_value());
        Walk(repo, *n.subtree, path, files);
      }
    }
  }

  std::optional<test::TempDir> tmp_;  // only when restic is installed
  fs::path dir_;
};

TEST_F(ResticCompat, ReadResticRepositoryAndWriteIntoIt) {
  fs::path src = dir_ / "src";
  fs::create_directories(src / "nested" / "deeper");
  // Past restic's 8 MiB largest chunk: at least two chunks whatever polynomial restic chose.
  std::string big = RandomBytes(9 * 1024 * 1024 + 12345, 42);
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "log line " + std::to_string(i) + " level=info msg=\"ok <&>\"\n";
  WriteFile(src / "big.bin", big);
  WriteFile(src / "text.log", text);
  WriteFile(src / "empty", "");
  WriteFile(src / "we\"ird\tname \xc3\xa9.txt", "odd\n");
  WriteFile(src / "bad\xffname", "not utf-8\n");
  WriteFile(src / "nested" / "deeper" / "leaf.txt", "leaf\n");
  fs::create_symlink("nested/deeper/leaf.txt", src / "link");
  chmod((src / "text.log").c_str(), 0600);

  fs::path repo_dir = dir_ / "restic-repo";
  ASSERT_EQ(Restic(repo_dir, "init"), 0);
  ASSERT_EQ(Restic(repo_dir, "backup --host compathost --tag t1 src"), 0);

  LocalBackend backend(repo_dir.string());
  auto repo = Repository::Open(&backend, "compat-pass");
  ASSERT_OK(repo);
  auto snaps = (*repo)->ListSnapshots();
  ASSERT_OK(snaps);
  ASSERT_EQ(snaps->size(), 1u);
  const Snapshot& snap = (*snaps)[0].snapshot;
  EXPECT_EQ(snap.hostname, "compathost");
  EXPECT_TRUE(snap.HasTag("t1"));
  EXPECT_EQ(snap.paths, std::vector<std::string>{src.string()});
  ASSERT_OK((*repo)->LoadIndex());

  std::map<std::string, Node> files;
  Walk(repo->get(), snap.tree, "", &files);
  ASSERT_FALSE(HasFailure());
  auto find = [&](const std::string& name) -> const Node* {
    for (const auto& [path, node] : files) {
      if (path.size() >= name.size() && path.compare(path.size() - name.size(), name.size(), name) == 0 &&
          path[path.size() - name.size() - 1] == '/') {
        return &node;
      }
    }
    return nullptr;
  };
  const Node* big_node = find("src/big.bin");
  ASSERT_NE(big_node, nullptr);
  EXPECT_GE(big_node->content.size(), 2u);
  EXPECT_EQ(ReadContent(repo->get(), *big_node), big);
  // Our chunker cuts where restic cut.
  std::vector<Id> ours;
  size_t off = 0;
  for (size_t len : ChunkLengths((*repo)->config().chunker_polynomial, big)) {
    ours.push_back(Id::Hash(std::string_view(big).substr(off, len)));
    off += len;
  }
  EXPECT_EQ(ours, big_node->content);
  const Node* text_node = find("src/text.log");
  ASSERT_NE(text_node, nullptr);
  EXPECT_EQ(ReadContent(repo->get(), *text_node), text);
  EXPECT_EQ(text_node->mode, 0600u);
  const Node* empty = find("src/empty");
  ASSERT_NE(empty, nullptr);
  EXPECT_TRUE(empty->content.empty());
  ASSERT_NE(find("src/we\"ird\tname \xc3\xa9.txt"), nullptr);
  ASSERT_NE(find("src/bad\xffname"), nullptr);
  EXPECT_EQ(ReadContent(repo->get(), *find("src/bad\xffname")), "not utf-8\n");
  const Node* link = find("src/link");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, NodeType::kSymlink);
  EXPECT_EQ(link->linktarget, "nested/deeper/leaf.txt");

  // Now write a snapshot of our own into restic's repository: re-using restic's blobs for
  // big.bin (dedup) plus one new file.
  std::string fresh = "written by clawback\n";
  auto fresh_blob = (*repo)->SaveBlob(BlobType::kData, fresh);
  ASSERT_OK(fresh_blob);
  for (size_t i = 0, o = 0; i < ours.size(); ++i) {
    size_t len = ChunkLengths((*repo)->config().chunker_polynomial, big)[i];
    auto r = (*repo)->SaveBlob(BlobType::kData, std::string_view(big).substr(o, len));
    ASSERT_OK(r);
    EXPECT_TRUE(r->known) << "restic's chunk " << i << " should be deduplicated";
    o += len;
  }
  Node fresh_node;
  fresh_node.name = "fresh.txt";
  fresh_node.type = NodeType::kFile;
  fresh_node.mode = 0644;
  fresh_node.mtime = fresh_node.atime = fresh_node.ctime = Timestamp::FromUnixLocal(1700000000, 123456789);
  fresh_node.size = fresh.size();
  fresh_node.links = 1;
  fresh_node.content = {fresh_blob->id};
  Node big_copy = *big_node;
  big_copy.name = "big-copy.bin";
  Tree root{{fresh_node, big_copy}};
  auto root_id = (*repo)->SaveTree(root);
  ASSERT_OK(root_id);
  ASSERT_OK((*repo)->Flush());
  Snapshot ours_snap;
  ours_snap.time = Timestamp::Now();
  ours_snap.tree = *root_id;
  ours_snap.paths = {"/clawback"};
  ours_snap.hostname = "clawbackhost";
  ours_snap.tags = {"conversation=0190a1b2-0000-7000-8000-000000000001", "reason=pre"};
  auto sid = (*repo)->SaveSnapshot(ours_snap);
  ASSERT_OK(sid);

  std::string out;
  ASSERT_EQ(Restic(repo_dir, "check --read-data", &out), 0) << out;
  ASSERT_EQ(Restic(repo_dir, "snapshots --json", &out), 0);
  EXPECT_NE(out.find("conversation=0190a1b2-0000-7000-8000-000000000001"), std::string::npos) << out;
  ASSERT_EQ(Restic(repo_dir, "restore " + sid->Hex() + " --target restored"), 0);
  EXPECT_EQ(ReadFile(dir_ / "restored" / "fresh.txt"), fresh);
  EXPECT_EQ(ReadFile(dir_ / "restored" / "big-copy.bin"), big);
}

TEST_F(ResticCompat, ResticVerifiesRepositoryWeInitialised) {
  fs::path repo_dir = dir_ / "ours";
  LocalBackend backend(repo_dir.string());
  InitOptions init;
  init.kdf = KdfParams{16384, 8, 1};
  auto repo = Repository::Init(&backend, "compat-pass", init);
  ASSERT_OK(repo);
  std::string content = RandomBytes(1500000, 5) + std::string(600000, 'z');
  Node file;
  file.name = "data.bin";
  file.type = NodeType::kFile;
  file.mode = 0640;
  file.mtime = file.atime = file.ctime = Timestamp::FromUnixLocal(1650000000, 5);
  file.links = 1;
  file.size = content.size();
  size_t off = 0;
  for (size_t len : ChunkLengths((*repo)->config().chunker_polynomial, content)) {
    auto r = (*repo)->SaveBlob(BlobType::kData, std::string_view(content).substr(off, len));
    ASSERT_OK(r);
    file.content.push_back(r->id);
    off += len;
  }
  Node sub;
  sub.name = "sub";
  sub.type = NodeType::kDir;
  sub.mode = GoModeFromPosix(040750);
  sub.mtime = sub.atime = sub.ctime = Timestamp::FromUnixLocal(1650000000, 0);
  auto empty_tree = (*repo)->SaveTree(Tree{});
  ASSERT_OK(empty_tree);
  sub.subtree = *empty_tree;
  auto root = (*repo)->SaveTree(Tree{{file, sub}});
  ASSERT_OK(root);
  ASSERT_OK((*repo)->Flush());
  Snapshot snap;
  snap.time = Timestamp::Now();
  snap.tree = *root;
  snap.paths = {"/data"};
  snap.hostname = "h";
  snap.tags = {"reason=scheduled"};
  ASSERT_OK((*repo)->SaveSnapshot(snap));

  std::string out;
  ASSERT_EQ(Restic(repo_dir, "check --read-data", &out), 0) << out;
  ASSERT_EQ(Restic(repo_dir, "snapshots --json", &out), 0);
  EXPECT_NE(out.find("reason=scheduled"), std::string::npos) << out;
  ASSERT_EQ(Restic(repo_dir, "restore latest --target restored"), 0);
  EXPECT_EQ(ReadFile(dir_ / "restored" / "data.bin"), content);
  struct stat st;
  ASSERT_EQ(stat((dir_ / "restored" / "data.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_mtime, 1650000000);
  EXPECT_TRUE(fs::is_directory(dir_ / "restored" / "sub"));
}

}  // namespace
}  // namespace clawback::store
