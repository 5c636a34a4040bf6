// FileSystem: one conformance suite run against PosixFileSystem (in a temporary directory),
// MemFileSystem, and FaultFileSystem over each with no faults set (it must be invisible);
// then what is particular to MemFileSystem and FaultFileSystem.
#include "common/file_system.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/testing/temp_dir.h"

namespace clawback {
namespace {

struct Impl {
  std::string name;
  std::function<std::unique_ptr<FileSystem>(FileSystem** base_out)> make;
  bool real;  // a kernel file system under it
};

class FileSystemConformance : public ::testing::TestWithParam<Impl> {
 protected:
  void SetUp() override {
    fs_ = GetParam().make(&base_);
    if (GetParam().real) {
      tmp_.emplace("clawback-fs");
      root_ = tmp_->str();
    } else {
      root_ = "/t";
      ASSERT_EQ(fs_->Mkdir(root_, 0700), 0);
    }
  }
  std::string P(const std::string& rel) const { return root_ + "/" + rel; }

  int Create(const std::string& rel, std::string_view data = "") {
    int fd = fs_->Open(P(rel), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0) << rel << ": " << std::strerror(-fd);
    if (fd < 0) return fd;
    EXPECT_EQ(fs_->WriteAll(fd, data), 0);
    return fs_->Close(fd);
  }
  std::string Contents(const std::string& rel) {
    int fd = fs_->Open(P(rel), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "<" + std::string(std::strerror(-fd)) + ">";
    std::string out(1 << 16, '\0');
    int64_t n = fs_->ReadFull(fd, out.data(), out.size());
    EXPECT_EQ(fs_->Close(fd), 0);
    out.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return out;
  }
  std::vector<std::string> Names(const std::string& rel) {
    int fd = fs_->Open(P(rel), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    std::vector<DirEntry> entries;
    EXPECT_EQ(fs_->ReadDir(fd, &entries), 0);
    EXPECT_EQ(fs_->Close(fd), 0);
    std::vector<std::string> names;
    for (const auto& e : entries) names.push_back(e.name);
    std::sort(names.begin(), names.end());
    return names;
  }

  std::unique_ptr<FileSystem> fs_;
  FileSystem* base_ = nullptr;
  std::optional<test::TempDir> tmp_;  // real file systems only
  std::string root_;
};

TEST_P(FileSystemConformance, WriteReadPositionedAndTruncate) {
  int fd = fs_->Open(P("f"), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(fs_->Write(fd, "hello world", 11), 11);
  EXPECT_EQ(fs_->PWrite(fd, "W", 1, 6), 1);
  char buf[16] = {};
  EXPECT_EQ(fs_->PRead(fd, buf, sizeof(buf), 0), 11);
  EXPECT_EQ(std::string(buf, 11), "hello World");
  EXPECT_EQ(fs_->PRead(fd, buf, 4, 100), 0);  // past the end
  struct stat st;
  ASSERT_EQ(fs_->Fstat(fd, &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 11);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(fs_->Ftruncate(fd, 5), 0);
  EXPECT_EQ(fs_->Fsync(fd), 0);
  EXPECT_EQ(fs_->GetStatusFlags(fd) & O_ACCMODE, O_RDWR);
  EXPECT_EQ(fs_->Close(fd), 0);
  EXPECT_EQ(Contents("f"), "hello");
  EXPECT_EQ(fs_->Close(fd), -EBADF);  // closed already
}

TEST_P(FileSystemConformance, OpenErrorsAreErrnoValues) {
  ASSERT_EQ(Create("f", "x"), 0);
  EXPECT_EQ(fs_->Open(P("f"), O_WRONLY | O_CREAT | O_EXCL, 0600), -EEXIST);
  EXPECT_EQ(fs_->Open(P("missing"), O_RDONLY), -ENOENT);
  EXPECT_EQ(fs_->Open(P("missing/x"), O_RDONLY), -ENOENT);
  EXPECT_EQ(fs_->Open(P("f"), O_RDONLY | O_DIRECTORY), -ENOTDIR);
  EXPECT_EQ(fs_->Open(P("f/x"), O_RDONLY), -ENOTDIR);
  ASSERT_EQ(fs_->SymlinkAt("f", FileSystem::kCwd, P("l").c_str()), 0);
  EXPECT_EQ(fs_->Open(P("l"), O_RDONLY | O_NOFOLLOW), -ELOOP);
  EXPECT_EQ(fs_->Open(root_, O_WRONLY), -EISDIR);
  EXPECT_EQ(FsStatus("open " + P("missing"), fs_->Open(P("missing"), O_RDONLY)).ToString(),
            "NotFound: open " + P("missing") + ": No such file or directory");
  EXPECT_TRUE(FsStatus("x", 3).ok());
}

TEST_P(FileSystemConformance, DirectoryRelativeCallsAndReadDir) {
  int dir = fs_->Open(root_, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir, 0);
  EXPECT_EQ(fs_->MkdirAt(dir, "sub", 0700), 0);
  EXPECT_EQ(fs_->MkdirAt(dir, "sub", 0700), -EEXIST);
  int sub = fs_->OpenAt(dir, "sub", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
  ASSERT_GE(sub, 0);
  int fd = fs_->OpenAt(sub, "a", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(fs_->WriteAll(fd, "abc"), 0);
  EXPECT_EQ(fs_->Close(fd), 0);
  EXPECT_EQ(fs_->SymlinkAt("a", sub, "s"), 0);
  EXPECT_EQ(fs_->MknodAt(sub, "p", S_IFIFO | 0600, 0), 0);
  EXPECT_EQ(fs_->LinkAt(FileSystem::kCwd, P("sub/a").c_str(), sub, "h", 0), 0);
  EXPECT_EQ(fs_->RenameAt(sub, "h", dir, "moved"), 0);
  std::vector<DirEntry> entries;
  ASSERT_EQ(fs_->ReadDir(sub, &entries), 0);
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& x, const DirEntry& y) { return x.name < y.name; });
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].name, "a");
  EXPECT_EQ(entries[1].name, "p");
  EXPECT_EQ(entries[2].name, "s");
  for (const DirEntry& e : entries) {
    struct stat st;
    ASSERT_EQ(fs_->StatAt(sub, e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW), 0);
    const unsigned char want = S_ISREG(st.st_mode)   ? DT_REG
                               : S_ISLNK(st.st_mode) ? DT_LNK
                                                     : DT_FIFO;
    if (e.type != DT_UNKNOWN) {
      EXPECT_EQ(e.type, want) << e.name;
    }
  }
  struct stat a, m;
  ASSERT_EQ(fs_->StatAt(sub, "a", &a, 0), 0);
  ASSERT_EQ(fs_->StatAt(dir, "moved", &m, 0), 0);
  EXPECT_EQ(a.st_ino, m.st_ino);
  EXPECT_EQ(a.st_nlink, 2u);
  EXPECT_EQ(fs_->UnlinkAt(dir, "sub", AT_REMOVEDIR), -ENOTEMPTY);
  EXPECT_EQ(fs_->UnlinkAt(dir, "sub", 0), -EISDIR);
  for (const char* n : {"a", "p", "s"}) EXPECT_EQ(fs_->UnlinkAt(sub, n, 0), 0) << n;
  EXPECT_EQ(fs_->UnlinkAt(sub, "a", 0), -ENOENT);
  EXPECT_EQ(fs_->Close(sub), 0);
  EXPECT_EQ(fs_->UnlinkAt(dir, "sub", AT_REMOVEDIR), 0);
  EXPECT_EQ(fs_->Close(dir), 0);
  EXPECT_EQ(Names(""), std::vector<std::string>{"moved"});
  EXPECT_EQ(Contents("moved"), "abc");
}

TEST_P(FileSystemConformance, RenameReplacesAndSymlinksResolve) {
  ASSERT_EQ(Create("a", "new"), 0);
  ASSERT_EQ(Create("b", "old"), 0);
  EXPECT_EQ(fs_->Rename(P("a"), P("b")), 0);
  EXPECT_EQ(Contents("b"), "new");
  EXPECT_EQ(Names(""), std::vector<std::string>{"b"});
  EXPECT_EQ(fs_->Rename(P("a"), P("c")), -ENOENT);
  ASSERT_EQ(fs_->Mkdir(P("d"), 0700), 0);
  ASSERT_EQ(fs_->SymlinkAt("d", FileSystem::kCwd, P("ld").c_str()), 0);
  ASSERT_EQ(fs_->SymlinkAt((root_ + "/b").c_str(), FileSystem::kCwd, P("d/abs").c_str()), 0);
  EXPECT_EQ(Contents("ld/abs"), "new");  // through a relative and an absolute link
  struct stat st;
  ASSERT_EQ(fs_->Lstat(P("ld"), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_EQ(fs_->Stat(P("ld"), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(fs_->Link(P("b"), P("d/b2")), 0);
  EXPECT_EQ(fs_->Link(P("b"), P("d/b2")), -EEXIST);
  EXPECT_EQ(fs_->Unlink(P("b")), 0);
  EXPECT_EQ(Contents("d/b2"), "new");
  EXPECT_EQ(fs_->Stat(P("d/abs"), &st), -ENOENT);  // dangling now
}

TEST_P(FileSystemConformance, Metadata) {
  ASSERT_EQ(Create("f", "x"), 0);
  int fd = fs_->Open(P("f"), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(fs_->Fchmod(fd, 0604), 0);
  struct timespec times[2] = {{1000, 5}, {2000, 123456789}};
  EXPECT_EQ(fs_->Futimens(fd, times), 0);
  EXPECT_EQ(fs_->Fchown(fd, getuid(), getgid()), 0);
  EXPECT_EQ(fs_->Close(fd), 0);
  struct stat st;
  ASSERT_EQ(fs_->Stat(P("f"), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0604u);
  EXPECT_EQ(st.st_mtim.tv_sec, 2000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
  EXPECT_EQ(st.st_atim.tv_sec, 1000);
  EXPECT_EQ(fs_->ChmodAt(FileSystem::kCwd, P("f").c_str(), 0600), 0);
  ASSERT_EQ(fs_->SymlinkAt("f", FileSystem::kCwd, P("l").c_str()), 0);
  struct timespec lt[2] = {{3000, 0}, {4000, 7}};
  EXPECT_EQ(fs_->UtimensAt(FileSystem::kCwd, P("l").c_str(), lt, AT_SYMLINK_NOFOLLOW), 0);
  EXPECT_EQ(fs_->ChownAt(FileSystem::kCwd, P("l").c_str(), getuid(), getgid(), AT_SYMLINK_NOFOLLOW),
            0);
  ASSERT_EQ(fs_->Lstat(P("l"), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 4000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 7);
  ASSERT_EQ(fs_->Stat(P("l"), &st), 0);  // the file's times did not change
  EXPECT_EQ(st.st_mtim.tv_sec, 2000);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_P(FileSystemConformance, WriteAllAndReadFullLoop) {
  std::string big(3 << 20, 'q');
  for (size_t i = 0; i < big.size(); i += 4093) big[i] = static_cast<char>(i);
  ASSERT_EQ(Create("big", big), 0);
  int fd = fs_->Open(P("big"), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::string back(big.size() + 10, '\0');
  EXPECT_EQ(fs_->ReadFull(fd, back.data(), back.size()), static_cast<int64_t>(big.size()));
  back.resize(big.size());
  EXPECT_EQ(back, big);
  EXPECT_EQ(fs_->Read(fd, back.data(), 1), 0);
  EXPECT_EQ(fs_->Close(fd), 0);
}

std::vector<Impl> Impls() {
  return {
      {"Posix",
       [](FileSystem** b) {
         *b = nullptr;
         return std::make_unique<PosixFileSystem>();
       },
       true},
      {"Mem",
       [](FileSystem** b) {
         *b = nullptr;
         return std::make_unique<MemFileSystem>();
       },
       false},
      {"FaultOverPosix",
       [](FileSystem** b) {
         *b = FileSystem::Default();
         return std::make_unique<FaultFileSystem>(*b);
       },
       true},
      {"FaultOverMem",
       [](FileSystem** b) {
         static thread_local std::unique_ptr<MemFileSystem> mem;
         mem = std::make_unique<MemFileSystem>();
         *b = mem.get();
         return std::make_unique<FaultFileSystem>(mem.get());
       },
       false},
  };
}

INSTANTIATE_TEST_SUITE_P(All, FileSystemConformance, ::testing::ValuesIn(Impls()),
                         [](const ::testing::TestParamInfo<Impl>& p) { return p.param.name; });

// --- MemFileSystem ---------------------------------------------------------------------

TEST(MemFileSystem, CapacityGivesShortWritesThenEnospcAndFreesOnUnlink) {
  MemFileSystem fs(100);
  int fd = fs.Open("/f", O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  std::string data(80, 'a');
  EXPECT_EQ(fs.Write(fd, data.data(), data.size()), 80);
  EXPECT_EQ(fs.Write(fd, data.data(), data.size()), 20);  // what fits
  EXPECT_EQ(fs.Write(fd, data.data(), data.size()), -ENOSPC);
  EXPECT_EQ(fs.WriteAll(fd, "more"), -ENOSPC);
  EXPECT_EQ(fs.UsedBytes(), 100u);
  EXPECT_EQ(fs.Unlink("/f"), 0);
  EXPECT_EQ(fs.UsedBytes(), 100u);  // still open
  EXPECT_EQ(fs.Close(fd), 0);
  EXPECT_EQ(fs.UsedBytes(), 0u);
  EXPECT_EQ(fs.OpenDescriptors(), 0u);
}

TEST(MemFileSystem, RefusesODirectLikeTmpfs) {
  MemFileSystem fs;
  EXPECT_EQ(fs.Open("/f", O_WRONLY | O_CREAT | O_DIRECT, 0600), -EINVAL);
  int fd = fs.Open("/f", O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(fs.SetStatusFlags(fd, fs.GetStatusFlags(fd) | O_DIRECT), -EINVAL);
  int flags = -1;
  EXPECT_EQ(fs.GetInodeFlags(fd, &flags), 0);
  EXPECT_EQ(flags, 0);
  EXPECT_EQ(fs.Close(fd), 0);
}

// --- FaultFileSystem -------------------------------------------------------------------

class FaultFileSystemTest : public ::testing::Test {
 protected:
  int Make(const std::string& path) {
    return fault_.Open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  }
  MemFileSystem mem_;
  FaultFileSystem fault_{&mem_};
};

TEST_F(FaultFileSystemTest, NthCallOfEachOpIsCountedSeparately) {
  fault_.FailNth(FsOp::kWrite, 3, ENOSPC);
  fault_.FailNth(FsOp::kFsync, 2, EIO);
  fault_.FailNth(FsOp::kRename, 1, EXDEV);
  int fd = Make("/f");
  ASSERT_GE(fd, 0);
  EXPECT_EQ(fault_.Write(fd, "a", 1), 1);
  EXPECT_EQ(fault_.Fsync(fd), 0);
  EXPECT_EQ(fault_.PWrite(fd, "b", 1, 1), 1);  // pwrite counts as a write
  EXPECT_EQ(fault_.Write(fd, "c", 1), -ENOSPC);
  EXPECT_EQ(fault_.Write(fd, "d", 1), 1);  // only the 3rd
  EXPECT_EQ(fault_.Fsync(fd), -EIO);
  EXPECT_EQ(fault_.Fsync(fd), 0);
  EXPECT_EQ(fault_.Close(fd), 0);
  EXPECT_EQ(fault_.Rename("/f", "/g"), -EXDEV);
  EXPECT_EQ(fault_.Rename("/f", "/g"), 0);
  EXPECT_EQ(fault_.Count(FsOp::kWrite), 4u);
  EXPECT_EQ(fault_.Count(FsOp::kFsync), 3u);
  EXPECT_EQ(fault_.Fired(), 3u);
  // The failed write did not reach the file.
  struct stat st;
  ASSERT_EQ(mem_.Stat("/g", &st), 0);
  EXPECT_EQ(st.st_size, 2);  // "a", then "d" at write's own offset 1 (over pwrite's "b")
}

TEST_F(FaultFileSystemTest, PredicateSeesPathsOfDescriptorsAndDirectoryRelativeCalls) {
  ASSERT_EQ(fault_.Mkdir("/d", 0700), 0);
  std::vector<std::string> seen;
  fault_.Add({.op = FaultFileSystem::Fault::kAny,
              .when =
                  [&](const FsCall& c) {
                    seen.push_back(std::string(FsOpName(c.op)) + " " + std::string(c.path));
                    return c.path == "/d/big";
                  },
              .nth = 2,
              .err = EIO});
  int dir = fault_.Open("/d", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dir, 0);
  int fd = fault_.OpenAt(dir, "big", O_WRONLY | O_CREAT | O_EXCL, 0600);  // 1st on /d/big
  ASSERT_GE(fd, 0);
  EXPECT_EQ(fault_.Write(fd, "x", 1), -EIO);  // 2nd
  EXPECT_EQ(fault_.Write(fd, "x", 1), 1);
  EXPECT_EQ(fault_.Close(fd), 0);
  EXPECT_EQ(fault_.Close(dir), 0);
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen[0], "open /d");
  EXPECT_EQ(seen[1], "open /d/big");
  EXPECT_EQ(seen[2], "write /d/big");
}

TEST_F(FaultFileSystemTest, FailedCloseStillReleasesTheDescriptor) {
  fault_.Add({.op = FsOp::kClose, .err = EIO});
  int fd = Make("/f");
  ASSERT_GE(fd, 0);
  EXPECT_EQ(fault_.Close(fd), -EIO);
  EXPECT_EQ(mem_.OpenDescriptors(), 0u);
}

TEST_F(FaultFileSystemTest, CrashCallbackRunsInsteadOfTheCall) {
  int crashes = 0;
  fault_.CrashNth(FsOp::kRename, 1, [&] { crashes++; });
  int fd = Make("/f");
  ASSERT_GE(fd, 0);
  EXPECT_EQ(fault_.Close(fd), 0);
  EXPECT_EQ(fault_.Rename("/f", "/g"), -EIO);
  EXPECT_EQ(crashes, 1);
  struct stat st;
  EXPECT_EQ(mem_.Stat("/g", &st), -ENOENT);  // the rename never happened
}

TEST(FaultFileSystemDeathTest, CrashCallbackCanStopTheProcess) {
  // The "fast" style (fork, no re-run): the child uses the directory made here.
  GTEST_FLAG_SET(death_test_style, "fast");
  test::TempDir tmp("clawback-fs-crash");
  const std::string dir = tmp.str();
  EXPECT_EXIT(
      {
        FaultFileSystem f(FileSystem::Default());
        f.CrashNth(FsOp::kRename, 1, [] { _exit(70); });
        int fd = f.Open(dir + "/tmp", O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0 || f.WriteAll(fd, "data") != 0 || f.Close(fd) != 0) _exit(1);
        (void)f.Rename(dir + "/tmp", dir + "/final");
        _exit(0);
      },
      ::testing::ExitedWithCode(70), "");
  EXPECT_TRUE(std::filesystem::exists(dir + "/tmp"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/final"));
}

}  // namespace
}  // namespace clawback
