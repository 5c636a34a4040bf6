// Restorer: who creates the restored entries, and in which order (issue 12, item 11).
//
// On ext4 a file's creation holds its directory's lock while the inode allocator runs (which
// on a file system without a journal skips every recently deleted inode of the group). When
// several restore workers created files in one directory at once they spun on that lock, and
// a restore into a directory whose previous restore was just deleted took 2.5 -> 6.8 ->
// 10.9 s. The restorer now creates every entry on its walking thread; the workers only fill
// files that are already open.
#include "store/restorer/restorer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "common/testing/random_data.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "store/archiver/archiver.h"
#include "store/backend/mem_backend.h"
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
std::string Parent(const std::string& path) { return path.substr(0, path.rfind('/')); }

class RestorerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_ + "/src";
    ASSERT_OK_AND_ASSIGN(repo_, test::InitTestRepo(&backend_));
  }

  // Directories a/, a/b/, c/ (and the root) with `per_dir` small files each, some larger
  // ones, empty files, a symlink and a hard link.
  void MakeTree(int per_dir) {
    for (const char* d : {"", "/a", "/a/b", "/c"}) {
      const std::string p = src_ + d;
      fs::create_directories(p);
      for (int i = 0; i < per_dir; i++) {
        const size_t size = i % 10 == 0 ? 200'000 : static_cast<size_t>(i * 37 % 5000);
        WriteFile(p + "/f" + std::to_string(i), RandomBytes(size, static_cast<uint64_t>(i) + p.size()));
      }
      ASSERT_EQ(symlink("f1", (p + "/link").c_str()), 0);
    }
    ASSERT_EQ(link((src_ + "/a/f2").c_str(), (src_ + "/c/hard").c_str()), 0);
  }

  Id Snapshot() {
    ArchiveOptions o;
    o.paths = {src_};
    o.threads = 2;
    Archiver a(repo_.get(), std::move(o));
    auto s = a.Run();
    EXPECT_OK(s);
    return s.ok() ? s->snapshot.tree : Id();
  }

  void ExpectSameTree(const std::string& restored) {
    for (const auto& e : fs::recursive_directory_iterator(src_)) {
      const std::string rel = e.path().string().substr(src_.size());
      const std::string out = restored + rel;
      if (e.is_symlink()) {
        EXPECT_TRUE(fs::is_symlink(out)) << rel;
      } else if (e.is_regular_file()) {
        EXPECT_EQ(ReadFile(out), ReadFile(e.path().string())) << rel;
        struct stat a, b;
        ASSERT_EQ(stat(e.path().c_str(), &a), 0);
        ASSERT_EQ(stat(out.c_str(), &b), 0) << rel;
        EXPECT_EQ(a.st_mtim.tv_sec, b.st_mtim.tv_sec) << rel;
        EXPECT_EQ(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec) << rel;
        EXPECT_EQ(a.st_mode, b.st_mode) << rel;
      } else {
        EXPECT_TRUE(fs::is_directory(out)) << rel;
      }
    }
  }

  test::TempDir tmp_{"clawback-restorer"};
  std::string dir_ = tmp_.str(), src_;
  MemBackend backend_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(RestorerTest, Issue12EveryEntryIsCreatedByTheWalkerDirectoryByDirectory) {
  MakeTree(60);
  const Id tree = Snapshot();

  struct Created {
    std::thread::id thread;
    std::string path;
  };
  std::mutex mu;
  std::vector<Created> created;
  RestoreOptions ro;
  ro.target = dir_ + "/out";
  ro.threads = 4;
  ro.verify = true;
  // Whether the directory each entry is made in has the top-directory flag at that moment
  // (-1: the file system has no such flags).
  std::vector<int> parent_spread;
  ro.on_create_for_test = [&](const std::string& path) {
    int flags = 0, spread = -1;
    int fd = open(Parent(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) spread = (flags & FS_TOPDIR_FL) != 0;
    if (fd >= 0) close(fd);
    std::lock_guard<std::mutex> l(mu);
    created.push_back({std::this_thread::get_id(), path});
    parent_spread.push_back(spread);
  };
  auto rs = Restorer(repo_.get(), tree, ro).Run();
  ASSERT_OK(rs);
  EXPECT_TRUE(rs->errors.empty()) << rs->errors[0];
  const std::string out = ro.target + src_;
  ExpectSameTree(out);
  struct stat a, b;
  ASSERT_EQ(stat((out + "/a/f2").c_str(), &a), 0);
  ASSERT_EQ(stat((out + "/c/hard").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);

  for (size_t i = 0; i < created.size(); i++) {
    EXPECT_NE(parent_spread[i], 0) << created[i].path << " made in a directory without FS_TOPDIR_FL";
  }
  // The restorer spreads directories over ext4's flex groups while it restores (the
  // top-directory flag) and leaves no such flag behind.
  for (const std::string& d : {ro.target, out, out + "/a", out + "/a/b", out + "/c"}) {
    int fd = open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << d;
    int flags = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
      EXPECT_EQ(flags & FS_TOPDIR_FL, 0) << d;
    }
    close(fd);
  }

  // 4 * (60 files + symlink) + a, a/b, c, the hard link, and src_'s parents below the target.
  ASSERT_GE(created.size(), 4u * 61 + 4);
  size_t off_thread = 0;
  for (const auto& c : created) off_thread += c.thread != std::this_thread::get_id();
  EXPECT_EQ(off_thread, 0u) << "of " << created.size()
                            << " entries, these were created by worker threads";

  // Each directory's entries are made in one run: its subdirectories, then the rest, each by
  // name (as the tree lists them).
  std::map<std::string, size_t> run_end;  // parent -> index after its run
  for (size_t i = 0; i < created.size();) {
    const std::string parent = Parent(created[i].path);
    EXPECT_EQ(run_end.count(parent), 0u) << "entries of " << parent << " made in two runs, again at "
                                         << created[i].path;
    size_t j = i;
    bool seen_non_dir = false;
    std::string prev_dir, prev_other;
    for (; j < created.size() && Parent(created[j].path) == parent; j++) {
      const std::string& p = created[j].path;
      const bool is_dir = fs::is_directory(fs::symlink_status(p));
      if (is_dir) {
        EXPECT_FALSE(seen_non_dir) << p << " made after a file of its directory";
        EXPECT_LT(prev_dir, p);
        prev_dir = p;
      } else {
        seen_non_dir = true;
        EXPECT_LT(prev_other, p);
        prev_other = p;
      }
    }
    run_end[parent] = j;
    i = j;
  }
}

// Files are handed to the workers open; a restore of more files than the process may have
// open at once still restores them all.
TEST_F(RestorerTest, ManySmallFilesWithFewFileDescriptors) {
  MakeTree(300);
  const Id tree = Snapshot();
  struct rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old_limit), 0);
  struct rlimit low = old_limit;
  low.rlim_cur = 96;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  RestoreOptions ro;
  ro.target = dir_ + "/out";
  ro.threads = 4;
  auto rs = Restorer(repo_.get(), tree, ro).Run();
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old_limit), 0);
  ASSERT_OK(rs);
  EXPECT_TRUE(rs->errors.empty()) << rs->errors.size() << " errors, the first: " << rs->errors[0];
  ExpectSameTree(ro.target + src_);
}

}  // namespace
}  // namespace clawback::store
