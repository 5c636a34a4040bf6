// Archiver: a snapshot of a real temp tree into an in-memory repository — excludes and
// .clawbackignore, unchanged files reused through the parent, a file that vanishes during
// the walk, special files, several targets.
#include "store/archiver/archiver.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "store/backend/mem_backend.h"
#include "store/restorer/tree_walk.h"
#include "store/testing/test_repo.h"

namespace clawback::store {
namespace {

namespace fs = std::filesystem;

class ArchiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(repo_, test::InitTestRepo(&backend_));
    src_ = fs::canonical(dir_.path()).string() + "/src";
    fs::create_directories(src_);
  }
  void Write(const std::string& rel, const std::string& data) {
    const fs::path p = src_ + "/" + rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << data;
  }
  ArchiveOptions Options() {
    ArchiveOptions o;
    o.paths = {src_};
    o.threads = 2;
    o.hostname = "test-host";
    return o;
  }
  Result<ArchiveSummary> Run(ArchiveOptions o) { return Archiver(repo_.get(), std::move(o)).Run(); }
  // The node at `rel` below src_ in snapshot tree `root`.
  Result<Node> At(const Id& root, const std::string& rel) {
    return FindNode(repo_.get(), root, rel.empty() ? src_ : src_ + "/" + rel);
  }
  bool Has(const Id& root, const std::string& rel) { return At(root, rel).ok(); }

  test::TempDir dir_{"clawback-archiver"};
  std::string src_;
  MemBackend backend_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(ArchiverTest, ExcludesAndIgnoreFilesLeaveThingsOut) {
  Write("keep.txt", "keep");
  Write("skip.tmp", "excluded by pattern");
  Write("build/out.o", "excluded directory");
  Write("deep/build", "a file named like the dir-only pattern: kept");
  Write("deep/sub/.clawbackignore", "# comment\n*.log\n!important.log\n");
  Write("deep/sub/a.log", "ignored below sub");
  Write("deep/sub/important.log", "re-included");
  Write("deep/b.log", "above the ignore file: kept");
  ArchiveOptions o = Options();
  ASSERT_OK(o.excludes.Add("*.tmp"));
  ASSERT_OK(o.excludes.Add("build/"));
  ASSERT_OK_AND_ASSIGN(ArchiveSummary s, Run(std::move(o)));
  const Id& t = s.snapshot.tree;
  EXPECT_TRUE(Has(t, "keep.txt"));
  EXPECT_FALSE(Has(t, "skip.tmp"));
  EXPECT_FALSE(Has(t, "build"));
  EXPECT_TRUE(Has(t, "deep/build"));
  EXPECT_FALSE(Has(t, "deep/sub/a.log"));
  EXPECT_TRUE(Has(t, "deep/sub/important.log"));
  EXPECT_TRUE(Has(t, "deep/sub/.clawbackignore"));
  EXPECT_TRUE(Has(t, "deep/b.log"));
  EXPECT_EQ(s.snapshot.excludes, (std::vector<std::string>{"*.tmp", "build/"}));
  EXPECT_TRUE(s.warnings.empty());

  // ignore_files = false: .clawbackignore is an ordinary file.
  ArchiveOptions all = Options();
  all.ignore_files = false;
  ASSERT_OK_AND_ASSIGN(ArchiveSummary s2, Run(std::move(all)));
  EXPECT_TRUE(Has(s2.snapshot.tree, "deep/sub/a.log"));
  EXPECT_TRUE(Has(s2.snapshot.tree, "build/out.o"));
}

TEST_F(ArchiverTest, UnchangedFilesAreReusedFromTheParent) {
  Write("a", std::string(300'000, 'a'));
  Write("d/b", "bee");
  Write("d/c", "sea");
  ASSERT_OK_AND_ASSIGN(ArchiveSummary first, Run(Options()));
  EXPECT_EQ(first.files_new, 3u);
  EXPECT_FALSE(first.snapshot.parent.has_value());

  ASSERT_OK_AND_ASSIGN(ArchiveSummary second, Run(Options()));
  ASSERT_TRUE(second.snapshot.parent.has_value());
  EXPECT_EQ(*second.snapshot.parent, first.snapshot_id);
  EXPECT_EQ(second.files_unmodified, 3u);
  EXPECT_EQ(second.files_new + second.files_changed, 0u);
  EXPECT_EQ(second.data_blobs, 0u);
  ASSERT_OK_AND_ASSIGN(Node a1, At(first.snapshot.tree, "a"));
  ASSERT_OK_AND_ASSIGN(Node a2, At(second.snapshot.tree, "a"));
  EXPECT_EQ(a1.content, a2.content);
  ASSERT_OK_AND_ASSIGN(Node d1, At(first.snapshot.tree, "d"));
  ASSERT_OK_AND_ASSIGN(Node d2, At(second.snapshot.tree, "d"));
  EXPECT_EQ(d1.subtree, d2.subtree);  // the same tree blob, not stored again

  // A changed file is read again (the rest is still reused); a new one is new.
  Write("d/b", "bumblebee");
  Write("d/new", "fresh");
  ASSERT_OK_AND_ASSIGN(ArchiveSummary third, Run(Options()));
  EXPECT_EQ(third.files_changed, 1u);
  EXPECT_EQ(third.files_new, 1u);
  EXPECT_EQ(third.files_unmodified, 2u);

  // no_parent reads everything; another host's snapshot is not a parent; --parent picks one.
  ArchiveOptions fresh = Options();
  fresh.no_parent = true;
  ASSERT_OK_AND_ASSIGN(ArchiveSummary forced, Run(std::move(fresh)));
  EXPECT_EQ(forced.files_new, 4u);
  EXPECT_FALSE(forced.snapshot.parent.has_value());
  ArchiveOptions other = Options();
  other.hostname = "elsewhere";
  ASSERT_OK_AND_ASSIGN(ArchiveSummary elsewhere, Run(std::move(other)));
  EXPECT_FALSE(elsewhere.snapshot.parent.has_value());
  EXPECT_EQ(elsewhere.files_unmodified, 0u);
  ArchiveOptions explicit_parent = Options();
  explicit_parent.hostname = "elsewhere";
  explicit_parent.parent = third.snapshot_id;
  ASSERT_OK_AND_ASSIGN(ArchiveSummary picked, Run(std::move(explicit_parent)));
  EXPECT_EQ(*picked.snapshot.parent, third.snapshot_id);
  EXPECT_EQ(picked.files_unmodified, 4u);
}

// A file listed by the walker but gone before its lstat is left out with a warning; the
// snapshot is still written. The .clawbackignore is a FIFO, which the walker opens after
// listing the directory and before looking at its entries: the test deletes the file while
// the walker waits in that open.
TEST_F(ArchiverTest, AFileThatVanishesDuringTheWalkIsLeftOutWithAWarning) {
  Write("stays", "here");
  Write("victim", "about to go");
  ASSERT_EQ(mkfifo((src_ + "/.clawbackignore").c_str(), 0644), 0);
  std::thread remover([this] {
    int fd = open((src_ + "/.clawbackignore").c_str(), O_WRONLY);  // waits for the walker
    ASSERT_GE(fd, 0);
    fs::remove(src_ + "/victim");
    close(fd);  // the walker reads an empty ignore file
  });
  auto s = Run(Options());
  remover.join();
  ASSERT_OK(s);
  EXPECT_TRUE(Has(s->snapshot.tree, "stays"));
  EXPECT_FALSE(Has(s->snapshot.tree, "victim"));
  ASSERT_EQ(s->warnings.size(), 1u);
  EXPECT_NE(s->warnings[0].find(src_ + "/victim"), std::string::npos) << s->warnings[0];
  EXPECT_EQ(s->files_new, 1u);
}

TEST_F(ArchiverTest, SpecialFiles) {
  Write("file", "x");
  ASSERT_EQ(symlink("file", (src_ + "/link").c_str()), 0);
  ASSERT_EQ(symlink("/nowhere/at/all", (src_ + "/dangling").c_str()), 0);
  ASSERT_EQ(mkfifo((src_ + "/fifo").c_str(), 0640), 0);
  int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string sock_path = src_ + "/sock";
  ASSERT_LT(sock_path.size(), sizeof addr.sun_path);
  std::memcpy(addr.sun_path, sock_path.c_str(), sock_path.size() + 1);
  ASSERT_EQ(bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const bool have_dev = mknod((src_ + "/null").c_str(), S_IFCHR | 0600, makedev(1, 3)) == 0;
  ASSERT_EQ(mkdir((src_ + "/empty-dir").c_str(), 0700), 0);

  ASSERT_OK_AND_ASSIGN(ArchiveSummary s, Run(Options()));
  close(sock);
  const Id& t = s.snapshot.tree;
  ASSERT_OK_AND_ASSIGN(Node link, At(t, "link"));
  EXPECT_EQ(link.type, NodeType::kSymlink);
  EXPECT_EQ(link.linktarget, "file");
  EXPECT_TRUE(link.content.empty());
  ASSERT_OK_AND_ASSIGN(Node dangling, At(t, "dangling"));
  EXPECT_EQ(dangling.linktarget, "/nowhere/at/all");
  ASSERT_OK_AND_ASSIGN(Node fifo, At(t, "fifo"));
  EXPECT_EQ(fifo.type, NodeType::kFifo);
  EXPECT_EQ(fifo.mode, kModeNamedPipe | 0640);
  EXPECT_FALSE(Has(t, "sock"));  // restic skips sockets
  ASSERT_OK_AND_ASSIGN(Node empty, At(t, "empty-dir"));
  EXPECT_EQ(empty.type, NodeType::kDir);
  ASSERT_TRUE(empty.subtree.has_value());
  EXPECT_EQ(empty.subtree->Hex(),
            "ac08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523fee8");
  if (have_dev) {
    ASSERT_OK_AND_ASSIGN(Node dev, At(t, "null"));
    EXPECT_EQ(dev.type, NodeType::kCharDev);
    EXPECT_EQ(dev.device, 259u);  // glibc makedev(1, 3), as restic stores it
  }
  EXPECT_EQ(s.files_new, 1u);  // only the regular file is read
  EXPECT_TRUE(s.warnings.empty());

  // A socket or fifo given as a target: the socket is left out, the fifo stored (not read).
  ArchiveOptions o = Options();
  o.paths = {src_ + "/fifo", src_ + "/sock"};
  ASSERT_OK_AND_ASSIGN(ArchiveSummary direct, Run(std::move(o)));
  EXPECT_TRUE(FindNode(repo_.get(), direct.snapshot.tree, src_ + "/fifo").ok());
  EXPECT_FALSE(FindNode(repo_.get(), direct.snapshot.tree, src_ + "/sock").ok());
}

TEST_F(ArchiverTest, SeveralTargetsShareTheirAncestors) {
  Write("one/f", "1");
  Write("two/g", "2");
  Write("twofold/h", "3");
  Write("one/inner/i", "4");
  ArchiveOptions o = Options();
  o.paths = {src_ + "/two", src_ + "/one", src_ + "/one/inner", src_ + "/twofold/h"};
  ASSERT_OK_AND_ASSIGN(ArchiveSummary s, Run(std::move(o)));
  EXPECT_EQ(s.snapshot.paths,
            (std::vector<std::string>{src_ + "/one", src_ + "/two", src_ + "/twofold/h"}));
  for (const char* rel : {"one/f", "one/inner/i", "two/g", "twofold/h"}) {
    EXPECT_TRUE(Has(s.snapshot.tree, rel)) << rel;
  }
  EXPECT_EQ(s.files_new, 4u);
  // The parent is found by the same (sorted) paths, given in any order.
  ArchiveOptions again = Options();
  again.paths = {src_ + "/twofold/h", src_ + "/one", src_ + "/two"};
  ASSERT_OK_AND_ASSIGN(ArchiveSummary s2, Run(std::move(again)));
  ASSERT_TRUE(s2.snapshot.parent.has_value());
  EXPECT_EQ(*s2.snapshot.parent, s.snapshot_id);
  EXPECT_EQ(s2.files_unmodified, 4u);
}

TEST_F(ArchiverTest, BadTargetsFailBeforeAnythingIsWritten) {
  EXPECT_EQ(Run(ArchiveOptions{}).status().code(), StatusCode::kInvalidArgument);
  ArchiveOptions o = Options();
  o.paths = {src_ + "/does-not-exist"};
  auto r = Run(std::move(o));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto snaps, repo_->List(FileType::kSnapshot));
  EXPECT_TRUE(snaps.empty());
}

}  // namespace
}  // namespace clawback::store
