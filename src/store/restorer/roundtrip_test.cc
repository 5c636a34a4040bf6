// Archiver -> repository (in memory) -> restorer/checker/diff/prune, on a real temp tree.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "common/testing/random_data.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "store/archiver/archiver.h"
#include "store/backend/mem_backend.h"
#include "store/checker/checker.h"
#include "store/chunker/chunker.h"
#include "store/forget/prune.h"
#include "store/restorer/restorer.h"
#include "store/restorer/tree_walk.h"
#include "store/testing/test_repo.h"

namespace clawback::store {
namespace {

namespace fs = std::filesystem;

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}
std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
using test::RandomBytes;

class RoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_ + "/src";
    fs::create_directories(src_ + "/sub/deep");
    WriteFile(src_ + "/hello.txt", "hello restic\n");
    WriteFile(src_ + "/empty", "");
    WriteFile(src_ + "/sub/big.bin", RandomBytes(1'500'000, 1));  // several chunks
    WriteFile(src_ + "/sub/deep/odd \"name\"\t\xff.txt", "odd");
    WriteFile(src_ + "/ignored.tmp", "skip me");
    WriteFile(src_ + "/sub/.clawbackignore", "*.cache\n");
    WriteFile(src_ + "/sub/x.cache", "skip me too");
    chmod((src_ + "/hello.txt").c_str(), 0640);
    ASSERT_EQ(symlink("../hello.txt", (src_ + "/sub/link").c_str()), 0);
    ASSERT_EQ(link((src_ + "/hello.txt").c_str(), (src_ + "/sub/hard").c_str()), 0);
    struct timespec times[2] = {{1'600'000'000, 123456789}, {1'600'000'000, 123456789}};
    ASSERT_EQ(utimensat(AT_FDCWD, (src_ + "/sub/big.bin").c_str(), times, 0), 0);

    ASSERT_OK_AND_ASSIGN(repo_, test::InitTestRepo(&backend_));
  }

  ArchiveSummary Snapshot(bool force = false) {
    ArchiveOptions o;
    o.paths = {src_};
    o.threads = 2;
    o.no_parent = force;
    EXPECT_OK(o.excludes.Add("*.tmp"));
    Archiver a(repo_.get(), std::move(o));
    auto s = a.Run();
    EXPECT_OK(s);
    return s.ok() ? *s : ArchiveSummary{};
  }

  test::TempDir tmp_{"clawback-roundtrip"};
  std::string dir_ = tmp_.str(), src_;
  MemBackend backend_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(RoundTrip, SnapshotRestoreAndChangeDetection) {
  ArchiveSummary first = Snapshot();
  EXPECT_EQ(first.files_new, 6u);  // hello, empty, big, odd, .clawbackignore, hard
  EXPECT_EQ(first.files_unmodified, 0u);
  EXPECT_GT(first.data_blobs, 2u);
  EXPECT_EQ(first.snapshot.paths, std::vector<std::string>{src_});

  RestoreOptions ro;
  ro.target = dir_ + "/out";
  ro.verify = true;
  ro.threads = 2;
  Restorer restorer(repo_.get(), first.snapshot.tree, ro);
  auto rs = restorer.Run();
  ASSERT_OK(rs);
  EXPECT_TRUE(rs->errors.empty()) << rs->errors[0];
  EXPECT_EQ(rs->verified_files, 5u);  // the hard link is not re-verified
  const std::string out = dir_ + "/out" + src_;
  EXPECT_EQ(ReadFile(out + "/hello.txt"), "hello restic\n");
  EXPECT_EQ(ReadFile(out + "/sub/big.bin"), RandomBytes(1'500'000, 1));
  EXPECT_EQ(ReadFile(out + "/sub/deep/odd \"name\"\t\xff.txt"), "odd");
  EXPECT_TRUE(fs::exists(out + "/empty"));
  EXPECT_FALSE(fs::exists(out + "/ignored.tmp"));
  EXPECT_FALSE(fs::exists(out + "/sub/x.cache"));
  struct stat st, st2;
  ASSERT_EQ(stat((out + "/hello.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  ASSERT_EQ(stat((out + "/sub/hard").c_str(), &st2), 0);
  EXPECT_EQ(st.st_ino, st2.st_ino);  // hard link restored
  ASSERT_EQ(stat((out + "/sub/big.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1'600'000'000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
  char target[64] = {0};
  ASSERT_GT(readlink((out + "/sub/link").c_str(), target, sizeof target), 0);
  EXPECT_STREQ(target, "../hello.txt");

  // Unchanged: nothing read, nothing added, same tree.
  ArchiveSummary second = Snapshot();
  EXPECT_EQ(second.files_unmodified, 6u);
  EXPECT_EQ(second.data_blobs, 0u);
  // (The root tree may differ: /tmp's own mtime moves as other programs use it.)
  ASSERT_TRUE(second.snapshot.parent.has_value());
  EXPECT_EQ(*second.snapshot.parent, first.snapshot_id);

  // One change: one file re-read; diff names it.
  WriteFile(src_ + "/sub/deep/new.txt", "new");
  WriteFile(src_ + "/hello.txt", "hello again\n");
  ArchiveSummary third = Snapshot();
  EXPECT_EQ(third.files_new, 1u);
  EXPECT_EQ(third.files_changed, 2u);  // hello.txt and its hard link
  DiffStats ds;
  auto diff = DiffTrees(repo_.get(), first.snapshot.tree, third.snapshot.tree, &ds);
  ASSERT_OK(diff);
  EXPECT_EQ(ds.added, 1u);
  EXPECT_EQ(ds.modified, 2u);
  bool saw_new = false;
  for (const auto& d : *diff) saw_new |= d.path == src_ + "/sub/deep/new.txt" && d.change == Change::kAdded;
  EXPECT_TRUE(saw_new);

  // Include: only one file (and its parents).
  RestoreOptions inc;
  inc.target = dir_ + "/only";
  inc.includes = {src_ + "/sub/deep"};
  auto ri = Restorer(repo_.get(), third.snapshot.tree, inc).Run();
  ASSERT_OK(ri);
  EXPECT_TRUE(fs::exists(dir_ + "/only" + src_ + "/sub/deep/new.txt"));
  EXPECT_FALSE(fs::exists(dir_ + "/only" + src_ + "/hello.txt"));
}

// Every file's content list is its chunker cuts, hashed — whichever way the archiver read
// it: large files (chunk ids hashed in pairs, the buffer compacted mid-file), files of
// exactly one chunk, batches of small files (read whole, hashed two at a time, odd counts,
// empty files), many directories finishing in any order.
TEST_F(RoundTrip, ContentListsAreTheChunkerCutsHashed) {
  const std::string tree = dir_ + "/mix";
  std::map<std::string, std::string> files;
  files["/large.bin"] = RandomBytes(23'000'000, 11);
  files["/zeros.bin"] = std::string(5'000'000, '\0');  // cuts at the minimum size
  std::string mixed = RandomBytes(3'000'000, 12) + std::string(2'000'000, 'a') + RandomBytes(4'000'000, 13);
  files["/mixed.bin"] = mixed;
  files["/one-chunk.bin"] = RandomBytes(Chunker::kMinSize, 14);
  files["/just-over.bin"] = RandomBytes(Chunker::kMinSize + 1, 15);
  for (int d = 0; d < 7; ++d) {
    for (int f = 0; f < 2 * d + 1; ++f) {  // odd and even counts per directory
      const std::string name = "/d" + std::to_string(d) + "/f" + std::to_string(f);
      files[name] = f == 3 ? std::string() : RandomBytes(static_cast<size_t>(f * 9000 + d * 101), 100 + d * 17 + f);
    }
    files["/d" + std::to_string(d) + "/mid.bin"] = RandomBytes(200'000 + static_cast<size_t>(d), 300 + d);
  }
  for (const auto& [name, data] : files) {
    fs::create_directories(fs::path(tree + name).parent_path());
    WriteFile(tree + name, data);
  }
  ArchiveOptions o;
  o.paths = {tree};
  o.threads = 2;
  auto s = Archiver(repo_.get(), std::move(o)).Run();
  ASSERT_OK(s);
  EXPECT_EQ(s->files_new, files.size());
  const uint64_t pol = repo_->config().chunker_polynomial;
  for (const auto& [name, data] : files) {
    auto node = FindNode(repo_.get(), s->snapshot.tree, tree + name);
    ASSERT_OK(node) << name;
    std::vector<Id> want;
    size_t pos = 0;
    for (size_t len : ChunkLengths(pol, data)) {
      want.push_back(Id::Hash(std::string_view(data).substr(pos, len)));
      pos += len;
    }
    EXPECT_EQ(node->content, want) << name;
    EXPECT_EQ(node->size, data.size()) << name;
  }
  Checker c(repo_.get(), CheckOptions{true, {}, 2});
  auto r = c.Run();
  ASSERT_OK(r);
  EXPECT_TRUE(r->ok()) << r->errors[0];
}

TEST_F(RoundTrip, CheckFindsDamagedPackAndNamesTheSnapshot) {
  ArchiveSummary s = Snapshot();
  {
    Checker c(repo_.get(), CheckOptions{true, {}, 2});
    auto r = c.Run();
    ASSERT_OK(r);
    EXPECT_TRUE(r->ok()) << r->errors[0];
    EXPECT_GT(r->packs_read, 0u);
  }
  // Flip one byte in the middle of the biggest data pack.
  auto packs = backend_.List(FileType::kPack);
  ASSERT_OK(packs);
  FileInfo biggest;
  for (const auto& p : *packs) {
    if (p.size > biggest.size) biggest = p;
  }
  std::string bytes = *backend_.Load(FileType::kPack, biggest.name, 0, 0);
  bytes[bytes.size() / 2] ^= 0x40;
  ASSERT_OK(backend_.Remove(FileType::kPack, biggest.name));
  ASSERT_OK(backend_.Save(FileType::kPack, biggest.name, bytes));

  Checker structural(repo_.get(), CheckOptions{});
  EXPECT_TRUE(structural.Run()->ok());  // structure alone can't see it
  Checker c(repo_.get(), CheckOptions{true, {}, 2});
  auto r = c.Run();
  ASSERT_OK(r);
  ASSERT_FALSE(r->ok());
  ASSERT_EQ(r->damaged_packs.size(), 1u);
  EXPECT_EQ(r->damaged_packs[0].pack.Hex(), biggest.name);
  ASSERT_EQ(r->damaged_packs[0].snapshots.size(), 1u);
  EXPECT_EQ(r->damaged_packs[0].snapshots[0], s.snapshot_id);
}

// check --read-data streams each pack in segments and re-reads a pack whole only when
// something is wrong, to word the error: damage in a blob and in the header both surface
// with the whole-pack message, with any number of reader threads.
TEST_F(RoundTrip, StreamedCheckReportsDamageLikeTheWholePackRead) {
  Snapshot();
  auto packs = backend_.List(FileType::kPack);
  ASSERT_OK(packs);
  std::sort(packs->begin(), packs->end(), [](const FileInfo& a, const FileInfo& b) { return a.size > b.size; });
  ASSERT_GE(packs->size(), 2u);
  auto damage = [&](const FileInfo& f, size_t at) {
    std::string bytes = *backend_.Load(FileType::kPack, f.name, 0, 0);
    bytes[at] ^= 0x01;
    ASSERT_OK(backend_.Remove(FileType::kPack, f.name));
    ASSERT_OK(backend_.Save(FileType::kPack, f.name, bytes));
  };
  damage((*packs)[0], 40);                               // inside the first blob
  damage((*packs)[1], static_cast<size_t>((*packs)[1].size) - 6);  // inside the header
  for (int threads : {1, 2, 3}) {
    Checker c(repo_.get(), CheckOptions{true, {}, threads});
    auto r = c.Run();
    ASSERT_OK(r);
    ASSERT_EQ(r->damaged_packs.size(), 2u) << threads;
    for (const auto& d : r->damaged_packs) EXPECT_EQ(d.error, "its SHA-256 does not match its name");
    uint64_t total = 0;
    for (const auto& p : *packs) total += static_cast<uint64_t>(p.size);
    EXPECT_EQ(r->bytes_read, total) << "every pack counted once, the re-read ones too";
  }
}

// A re-snapshot decodes the parent's subtrees ahead of the walker on pool threads. The
// result must equal a snapshot without a parent, also when parent directories vanished or
// became excluded (their queued loads are never claimed and must be cancelled safely).
TEST_F(RoundTrip, ParentTreePrefetchGivesTheSameTreeAsNoParent) {
  for (int i = 0; i < 40; ++i) {
    std::string d = src_ + "/many/d" + std::to_string(i) + "/e";
    fs::create_directories(d);
    WriteFile(d + "/f", std::to_string(i));
  }
  fs::create_directories(src_ + "/gone/deeper");
  fs::create_directories(src_ + "/becomes.tmp/x");
  Snapshot();
  fs::remove_all(src_ + "/gone");
  fs::rename(src_ + "/many/d7", src_ + "/later.tmp");  // excluded from now on
  WriteFile(src_ + "/many/d3/e/f", "changed");
  ArchiveSummary with_parent = Snapshot();
  ArchiveSummary without = Snapshot(/*force=*/true);
  EXPECT_GT(with_parent.files_unmodified, 30u);
  EXPECT_EQ(with_parent.files_changed, 1u);
  // Same nodes everywhere; directories' atimes differ (listing a directory touches it), so
  // they are compared without them, and subtrees by their contents. The directories above
  // src_ (/tmp, …) are not the test's: other processes change their mtime between the
  // snapshots, so those are compared without times.
  const std::string src_abs = fs::absolute(src_).string();
  std::function<std::vector<std::string>(const Id&, const std::string&)> flatten =
      [&](const Id& tree, const std::string& prefix) {
        std::vector<std::string> out;
        auto t = repo_->LoadTree(tree);
        EXPECT_OK(t);
        if (!t.ok()) return out;
        for (Node n : t->nodes) {
          std::optional<Id> sub = n.subtree;
          n.subtree.reset();
          if (n.type == NodeType::kDir) n.atime = Timestamp();
          if (n.type == NodeType::kDir && src_abs.rfind(prefix + n.name + "/", 0) == 0)
            n.mtime = n.ctime = Timestamp();
          std::string json;
          AppendNodeJson(n, &json);
          out.push_back(prefix + json);
          if (sub) {
            auto below = flatten(*sub, prefix + n.name + "/");
            out.insert(out.end(), below.begin(), below.end());
          }
        }
        return out;
      };
  auto a = flatten(with_parent.snapshot.tree, "/");
  EXPECT_EQ(a, flatten(without.snapshot.tree, "/"));
  EXPECT_GT(a.size(), 100u);
}

TEST_F(RoundTrip, ReadDataSubsetParsing) {
  EXPECT_EQ(ParseReadDataSubset("25%")->percent, 25);
  auto b = ParseReadDataSubset("2/7");
  ASSERT_OK(b);
  EXPECT_EQ(b->n, 2u);
  EXPECT_EQ(b->m, 7u);
  EXPECT_FALSE(ParseReadDataSubset("0%").ok());
  EXPECT_FALSE(ParseReadDataSubset("101%").ok());
  EXPECT_FALSE(ParseReadDataSubset("8/7").ok());
  EXPECT_FALSE(ParseReadDataSubset("x").ok());
}

TEST_F(RoundTrip, PruneAfterForgetKeepsTheRestReadable) {
  ArchiveSummary first = Snapshot();
  WriteFile(src_ + "/sub/big.bin", RandomBytes(900'000, 2));
  ArchiveSummary second = Snapshot();
  ASSERT_OK(backend_.Remove(FileType::kSnapshot, first.snapshot_id.Hex()));
  auto rep = Prune(repo_.get(), PruneOptions{});
  ASSERT_OK(rep);
  EXPECT_GT(rep->blobs_unused, 0u);
  EXPECT_GT(rep->packs_deleted + rep->packs_repacked, 0u);
  auto index_files = repo_->List(FileType::kIndex);
  EXPECT_EQ(index_files->size(), 1u);

  // A fresh open sees a consistent repository whose remaining snapshot restores.
  auto fresh = Repository::Open(&backend_, "pw");
  ASSERT_OK(fresh);
  Checker c(fresh->get(), CheckOptions{true, {}, 2});
  auto r = c.Run();
  ASSERT_OK(r);
  EXPECT_TRUE(r->ok()) << r->errors[0];
  RestoreOptions ro;
  ro.target = dir_ + "/after-prune";
  ro.verify = true;
  auto rs = Restorer(fresh->get(), second.snapshot.tree, ro).Run();
  ASSERT_OK(rs);
  EXPECT_TRUE(rs->errors.empty());
  EXPECT_EQ(ReadFile(dir_ + "/after-prune" + src_ + "/sub/big.bin"), RandomBytes(900'000, 2));
  // A second prune has nothing to do.
  auto again = Prune(fresh->get(), PruneOptions{});
  ASSERT_OK(again);
  EXPECT_EQ(again->packs_deleted + again->packs_repacked, 0u);
}

}  // namespace
}  // namespace clawback::store
