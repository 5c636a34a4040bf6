// LocalBackend specifics beyond the conformance suite: restic's on-disk layout, modes,
// no temporary files left behind, stray files ignored.
#include "store/backend/local_backend.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "store/backend/sigv4.h"

namespace clawback::store {
namespace {

namespace fs = std::filesystem;

class LocalBackendTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = dir_ + "/nested/repo"; }
  static mode_t Mode(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  test::TempDir tmp_{"clawback-localtest"};
  std::string dir_ = tmp_.str(), root_;
};

TEST_F(LocalBackendTest, CreateMakesResticLayoutWithPrivateDirectories) {
  LocalBackend b(root_ + "/");
  EXPECT_EQ(b.Location(), root_);
  ASSERT_OK(b.Create());
  for (const char* d : {"keys", "locks", "snapshots", "index", "data"}) {
    EXPECT_TRUE(fs::is_directory(root_ + "/" + d)) << d;
    EXPECT_EQ(Mode(root_ + "/" + d), 0700u) << d;
  }
  int subdirs = 0;
  for (const auto& e : fs::directory_iterator(root_ + "/data")) {
    EXPECT_EQ(e.path().filename().string().size(), 2u);
    ++subdirs;
  }
  EXPECT_EQ(subdirs, 256);
  EXPECT_EQ(Mode(root_ + "/data/00"), 0700u);
  EXPECT_EQ(Mode(root_ + "/data/ff"), 0700u);
  EXPECT_FALSE(fs::exists(root_ + "/tmp"));  // restic 0.14 makes none
}

TEST_F(LocalBackendTest, FilesLandAtResticPathsReadOnlyAndWithoutTemporaries) {
  LocalBackend b(root_);
  ASSERT_OK(b.Create());
  std::string data = "pack bytes";
  std::string id = Sha256Hex(data);
  ASSERT_OK(b.Save(FileType::kPack, id, data));
  ASSERT_OK(b.Save(FileType::kConfig, "config", "cfg"));
  ASSERT_OK(b.Save(FileType::kKey, id, "key"));
  std::string pack_path = root_ + "/data/" + id.substr(0, 2) + "/" + id;
  EXPECT_EQ(b.PathOf(FileType::kPack, id), pack_path);
  ASSERT_TRUE(fs::exists(pack_path));
  EXPECT_EQ(fs::file_size(pack_path), data.size());
  EXPECT_EQ(Mode(pack_path), 0400u);
  EXPECT_EQ(Mode(root_ + "/config"), 0400u);
  EXPECT_EQ(Mode(root_ + "/keys/" + id), 0400u);
  for (const auto& e : fs::recursive_directory_iterator(root_)) {
    EXPECT_EQ(e.path().string().find("-tmp-"), std::string::npos) << e.path();
  }
}

// Packs of 1 MiB and more go through O_DIRECT (an aligned bounce buffer, the last piece
// padded, the file cut to size); on file systems without it (tmpfs) through plain writes.
// Either way the file holds exactly the bytes saved.
TEST_F(LocalBackendTest, LargePacksOfOddSizesRoundTrip) {
  LocalBackend b(root_);
  ASSERT_OK(b.Create());
  std::mt19937 rng(7);
  for (size_t size : {size_t{1} << 20, (size_t{1} << 20) + 1, (size_t{3} << 20) + 123, (size_t{16} << 20) + 4096}) {
    std::string data(size, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    std::string id = Sha256Hex(data);
    ASSERT_OK(b.Save(FileType::kPack, id, data)) << size;
    EXPECT_EQ(fs::file_size(b.PathOf(FileType::kPack, id)), size);
    auto back = b.Load(FileType::kPack, id);
    ASSERT_OK(back);
    EXPECT_TRUE(*back == data) << size;
    auto tail = b.Load(FileType::kPack, id, static_cast<int64_t>(size - 10), 10);
    ASSERT_OK(tail);
    EXPECT_EQ(*tail, data.substr(size - 10));
  }
}

// A pending pack lives as data/tmp-<random> until Commit renames it into data/xx/; after a
// kill -9 mid-pack the temporary stays behind, invisible to List (and to restic).
TEST_F(LocalBackendTest, PendingPacksAreTemporariesInDataUntilCommitted) {
  LocalBackend b(root_);
  ASSERT_OK(b.Create());
  auto temps = [&] {
    int n = 0;
    for (const auto& e : fs::directory_iterator(root_ + "/data")) n += e.is_regular_file() ? 1 : 0;
    return n;
  };
  std::string data(1536 * 1024, 'p');
  {
    auto file = b.Begin(FileType::kPack);
    ASSERT_OK(file);
    ASSERT_OK((*file)->Append(data));
    EXPECT_EQ(temps(), 1);
    ASSERT_OK((*file)->Commit(Sha256Hex(data)));
    EXPECT_EQ(temps(), 0);
  }
  std::string path = b.PathOf(FileType::kPack, Sha256Hex(data));
  EXPECT_EQ(Mode(path), 0400u);
  EXPECT_EQ(fs::file_size(path), data.size());
  {
    auto file = b.Begin(FileType::kPack);
    ASSERT_OK(file);
    ASSERT_OK((*file)->Append(data));
    // A crash here leaves the temporary: copy it aside to see that List ignores it.
    for (const auto& e : fs::directory_iterator(root_ + "/data")) {
      if (e.is_regular_file()) fs::copy_file(e.path(), root_ + "/data/tmp-left-by-a-crash");
    }
  }
  EXPECT_EQ(temps(), 1);
  EXPECT_EQ(b.List(FileType::kPack)->size(), 1u);
}

// Pack pieces are written by the backend's I/O thread: a write it cannot do (here the
// file size limit: EFBIG) must fail the pack (at an Append or at Commit), publish nothing
// and leave no temporary behind. Run in a child: the limit is per process.
TEST_F(LocalBackendTest, BackgroundWriteFailureFailsThePackAndLeavesNothing) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    LocalBackend b(root_);
    if (!b.Create().ok()) ::_exit(10);
    struct rlimit limit = {2 << 20, 2 << 20};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(11);
    std::string data(5 << 20, 'x');
    {
      auto file = b.Begin(FileType::kPack);
      if (!file.ok()) ::_exit(12);
      Status st = (*file)->Append(data);
      if (st.ok()) st = (*file)->Commit(Sha256Hex(data));
      if (st.ok()) ::_exit(13);
      if (st.message().find("write") == std::string::npos) ::_exit(14);
    }
    for (const auto& e : fs::recursive_directory_iterator(root_ + "/data")) {
      if (e.is_regular_file()) ::_exit(15);
    }
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 create, 11 setrlimit, 12 begin, 13 no error, "
                                       "14 not a write error, 15 a file left in data/";
}

TEST_F(LocalBackendTest, SaveCreatesMissingDataSubdirectoryOnDemand) {
  LocalBackend b(root_);
  std::string id = Sha256Hex("x");
  // No Create(): like restic, Save makes the directories it needs.
  ASSERT_OK(b.Save(FileType::kPack, id, "x"));
  EXPECT_EQ(*b.Load(FileType::kPack, id), "x");
}

TEST_F(LocalBackendTest, ListIgnoresTemporariesAndStrayFiles) {
  LocalBackend b(root_);
  ASSERT_OK(b.Create());
  std::string id = Sha256Hex("a");
  ASSERT_OK(b.Save(FileType::kSnapshot, id, "a"));
  std::ofstream(root_ + "/snapshots/" + id + "-tmp-0123456789abcdef") << "partial";
  std::ofstream(root_ + "/snapshots/README") << "stray";
  fs::create_directory(root_ + "/snapshots/" + Sha256Hex("dir"));
  std::string pid = Sha256Hex("p");
  ASSERT_OK(b.Save(FileType::kPack, pid, "p"));
  // A pack in the wrong shard directory is not a pack of this repository.
  std::ofstream(root_ + "/data/00/" + Sha256Hex("q")) << "q";
  auto snaps = b.List(FileType::kSnapshot);
  ASSERT_OK(snaps);
  ASSERT_EQ(snaps->size(), 1u);
  EXPECT_EQ((*snaps)[0].name, id);
  auto packs = b.List(FileType::kPack);
  ASSERT_OK(packs);
  ASSERT_EQ(packs->size(), 1u);
  EXPECT_EQ((*packs)[0].name, pid);
}

// What a killed writer leaves (a streamed pack, Save temporaries beside final names) is
// removed; final files, stray files, lock temporaries and directories stay.
TEST_F(LocalBackendTest, RemoveTemporariesDeletesOnlyLeftoversOfInterruptedWrites) {
  LocalBackend b(root_);
  ASSERT_OK(b.Create());
  std::string snap = Sha256Hex("s"), pack = Sha256Hex("p");
  ASSERT_OK(b.Save(FileType::kSnapshot, snap, "s"));
  ASSERT_OK(b.Save(FileType::kPack, pack, "p"));
  const std::vector<std::string> temps = {
      root_ + "/data/tmp-0123456789abcdef",
      root_ + "/data/" + pack.substr(0, 2) + "/" + pack + "-tmp-0123456789abcdef",
      root_ + "/snapshots/" + snap + "-tmp-00112233",
      root_ + "/index/" + Sha256Hex("i") + "-tmp-44556677",
      root_ + "/keys/" + Sha256Hex("k") + "-tmp-8899aabb",
      root_ + "/config-tmp-ccddeeff",
  };
  for (const auto& t : temps) std::ofstream(t) << "partial";
  const std::vector<std::string> kept = {
      root_ + "/locks/" + Sha256Hex("l") + "-tmp-0123",  // another process's lock in flight
      root_ + "/snapshots/README",
  };
  for (const auto& k : kept) std::ofstream(k) << "x";
  fs::create_directory(root_ + "/data/tmp-dir");
  auto removed = b.RemoveTemporaries();
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, static_cast<int64_t>(temps.size()));
  for (const auto& t : temps) EXPECT_FALSE(fs::exists(t)) << t;
  for (const auto& k : kept) EXPECT_TRUE(fs::exists(k)) << k;
  EXPECT_TRUE(fs::is_directory(root_ + "/data/tmp-dir"));
  EXPECT_OK(b.Load(FileType::kSnapshot, snap, 0, 0));
  EXPECT_OK(b.Load(FileType::kPack, pack, 0, 0));
  auto again = b.RemoveTemporaries();
  ASSERT_OK(again);
  EXPECT_EQ(*again, 0);
}

TEST_F(LocalBackendTest, ListOfAMissingRepositoryIsEmptyAndExistsIsFalse) {
  LocalBackend b(root_);
  EXPECT_TRUE(b.List(FileType::kIndex)->empty());
  EXPECT_TRUE(b.List(FileType::kPack)->empty());
  EXPECT_FALSE(*b.Exists());
}

TEST_F(LocalBackendTest, TruncatedFileIsAShortReadNotSilentData) {
  LocalBackend b(root_);
  ASSERT_OK(b.Create());
  std::string id = Sha256Hex("0123456789");
  ASSERT_OK(b.Save(FileType::kPack, id, "0123456789"));
  fs::permissions(b.PathOf(FileType::kPack, id), fs::perms::owner_write, fs::perm_options::add);
  fs::resize_file(b.PathOf(FileType::kPack, id), 4);
  EXPECT_EQ(b.Load(FileType::kPack, id, 2, 5).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(*b.Load(FileType::kPack, id, 2, 2), "23");
}

TEST_F(LocalBackendTest, CreateFailsClearlyWhenRootIsAFile) {
  fs::create_directories(dir_ + "/nested");
  std::ofstream(root_) << "not a directory";
  LocalBackend b(root_);
  Status s = b.Create();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(root_), std::string::npos) << s.ToString();
}

// The atomicity promise under kill -9: a child process saves files in a loop and is
// killed at random moments; every file the backend lists afterwards is whole (its bytes
// hash to its name), and the torn temporaries are invisible.
TEST_F(LocalBackendTest, EveryListedFileIsWholeAfterKill9MidSave) {
  LocalBackend b(root_);
  ASSERT_OK(b.Create());
  std::mt19937 rng(12345);
  for (int round = 0; round < 8; ++round) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::mt19937 child_rng(static_cast<uint32_t>(round));
      for (int i = 0;; ++i) {
        // 64 KiB .. 2.3 MiB: buffered and O_DIRECT saves alike.
        std::string data(64 * 1024 + (child_rng() % (2304 * 1024)), '\0');
        for (char& c : data) c = static_cast<char>(child_rng());
        if (i % 2 == 0) {
          (void)b.Save(FileType::kPack, Sha256Hex(data), data);
          continue;
        }
        // The way the repository writes packs: streamed, then committed.
        auto file = b.Begin(FileType::kPack);
        if (!file.ok()) continue;
        const size_t third = data.size() / 3;
        (void)(*file)->Append(std::string_view(data).substr(0, third));
        (void)(*file)->Append(std::string_view(data).substr(third));
        (void)(*file)->Commit(Sha256Hex(data));
      }
    }
    ::usleep(20'000 + rng() % 60'000);
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status));
  }
  auto packs = b.List(FileType::kPack);
  ASSERT_OK(packs);
  EXPECT_GT(packs->size(), 0u);
  for (const FileInfo& f : *packs) {
    auto data = b.Load(FileType::kPack, f.name);
    ASSERT_OK(data);
    EXPECT_EQ(Sha256Hex(*data), f.name) << "torn file visible: " << f.name;
  }
}

}  // namespace
}  // namespace clawback::store
