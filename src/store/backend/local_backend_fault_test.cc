// LocalBackend under file-system faults (issue 13, item 5): a failed write, fsync, close or
// rename of a pack, index or snapshot leaves nothing under the final name and removes its
// temporary; a crash before the rename leaves only a temporary, which List ignores and
// RemoveTemporaries removes. As restic's local backend: write a temporary, rename it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "store/backend/local_backend.h"
#include "store/backend/sigv4.h"

namespace clawback::store {
namespace {

namespace fs = std::filesystem;

std::string Bytes(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i++) s[i] = static_cast<char>(seed + static_cast<char>(i * 131 % 251));
  return s;
}

class LocalBackendFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ + "/repo";
    ASSERT_OK(LocalBackend(root_).Create());
  }
  // Every file below the repository (directories left out), relative.
  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root_)) {
      if (!e.is_directory()) out.push_back(e.path().string().substr(root_.size() + 1));
    }
    return out;
  }
  // Saves `data` as type `t` through a FaultFileSystem with `fault`; returns the status.
  // *fired: whether the fault fired (null: it must).
  Status SaveWith(FaultFileSystem::Fault fault, FileType t, const std::string& data,
                  bool* fired = nullptr) {
    FaultFileSystem f(FileSystem::Default());
    f.Add(std::move(fault));
    LocalBackend b(root_, &f);
    Status s = b.Save(t, Sha256Hex(data), data);
    if (fired != nullptr) {
      *fired = f.Fired() == 1;
    } else {
      EXPECT_EQ(f.Fired(), 1u) << "the fault did not fire";
    }
    return s;
  }

  test::TempDir tmp_{"clawback-localfault"};
  std::string dir_ = tmp_.str(), root_;
};

TEST_F(LocalBackendFaultTest, Issue13EnospcWritingPackOrIndexLeavesNoPartialFile) {
  // A small pack (plain writes), a large one (O_DIRECT where the file system allows it,
  // pieces of 1 MiB: the second piece fails), an index and a snapshot.
  struct Case {
    FileType type;
    size_t size;
    uint64_t nth_write;
  };
  for (const Case& c : {Case{FileType::kPack, 4000, 1}, Case{FileType::kPack, 3 << 20, 2},
                        Case{FileType::kIndex, 9000, 1}, Case{FileType::kSnapshot, 300, 1}}) {
    for (int err : {ENOSPC, EIO}) {
      SCOPED_TRACE(std::string(FileTypeDir(c.type)) + " " + std::to_string(c.size) + " " +
                   std::strerror(err));
      const std::string data = Bytes(c.size, static_cast<char>(c.size));
      const std::string id = Sha256Hex(data);
      bool fired = false;
      Status s =
          SaveWith({.op = FsOp::kWrite, .nth = c.nth_write, .err = err}, c.type, data, &fired);
      if (!fired) {
        // No O_DIRECT here (tmpfs): the large pack went out in one write.
        ASSERT_OK(s);
        ASSERT_OK(LocalBackend(root_).Remove(c.type, id));
        continue;
      }
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(s.code(), StatusCode::kIOError);
      EXPECT_NE(s.message().find("write " + LocalBackend(root_).PathOf(c.type, id) + "-tmp-"),
                std::string::npos)
          << s.message();
      EXPECT_NE(s.message().find(std::strerror(err)), std::string::npos) << s.message();
      EXPECT_EQ(Files(), std::vector<std::string>{}) << "a file is left behind";
      // The same save goes through once the disk has room again.
      LocalBackend b(root_);
      ASSERT_OK(b.Save(c.type, id, data));
      auto back = b.Load(c.type, id);
      ASSERT_OK(back);
      EXPECT_TRUE(*back == data);
      ASSERT_OK(b.Remove(c.type, id));
    }
  }
}

TEST_F(LocalBackendFaultTest, FailedFsyncCloseOrRenameLeavesNoFile) {
  const std::string data = Bytes(5000, 7);
  for (FsOp op : {FsOp::kFsync, FsOp::kClose, FsOp::kRename}) {
    SCOPED_TRACE(std::string(FsOpName(op)));
    // Only the temporary's own calls (the directory's fsync comes after the rename).
    Status s = SaveWith(
        {.op = op,
         .when =
             [](const FsCall& call) { return call.path.find("-tmp-") != std::string_view::npos; },
         .err = EIO},
        FileType::kPack, data);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("Input/output error"), std::string::npos) << s.message();
    EXPECT_EQ(Files(), std::vector<std::string>{});
  }
}

TEST_F(LocalBackendFaultTest, Issue13EnospcInAStreamedPackLeavesNoPartialFile) {
  FaultFileSystem f(FileSystem::Default());
  // The I/O thread's second 1 MiB piece.
  f.FailNth(FsOp::kWrite, 2, ENOSPC);
  LocalBackend b(root_, &f);
  const std::string data = Bytes(3 << 20, 3);
  {
    auto p = b.Begin(FileType::kPack, data.size());
    ASSERT_OK(p);
    Status s;
    for (size_t off = 0; off < data.size() && s.ok(); off += 100'000) {
      s = (*p)->Append(std::string_view(data).substr(off, 100'000));
    }
    if (s.ok()) s = (*p)->Commit(Sha256Hex(data));
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(root_ + "/data/tmp-"), std::string::npos) << s.message();
  }
  EXPECT_EQ(Files(), std::vector<std::string>{});
}

TEST_F(LocalBackendFaultTest, Issue13CrashBeforeRenameLeavesOnlyATemporary) {
  GTEST_FLAG_SET(death_test_style, "fast");
  const std::string data = Bytes(5000, 9);
  const std::string id = Sha256Hex(data);
  EXPECT_EXIT(
      {
        FaultFileSystem f(FileSystem::Default());
        f.CrashNth(FsOp::kRename, 1, [] { _exit(70); });
        LocalBackend b(root_, &f);
        (void)b.Save(FileType::kIndex, id, data);
        _exit(0);
      },
      ::testing::ExitedWithCode(70), "");
  std::vector<std::string> files = Files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].rfind("index/" + id + "-tmp-", 0), 0u) << files[0];
  LocalBackend b(root_);
  auto listed = b.List(FileType::kIndex);
  ASSERT_OK(listed);
  EXPECT_TRUE(listed->empty());
  auto removed = b.RemoveTemporaries();
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 1);
  EXPECT_EQ(Files(), std::vector<std::string>{});
}

// The local backend on an in-memory file system that fills up: every save either lands
// whole or leaves nothing.
TEST_F(LocalBackendFaultTest, FullMemFileSystemNeverHoldsAPartialFile) {
  MemFileSystem mem(1 << 20);
  LocalBackend b("/repo", &mem);
  ASSERT_OK(b.Create());
  int saved = 0, failed = 0;
  for (int i = 0; i < 40; i++) {
    const std::string data = Bytes(60'000 + static_cast<size_t>(i) * 1000, static_cast<char>(i));
    Status s = b.Save(FileType::kPack, Sha256Hex(data), data);
    if (s.ok()) {
      saved++;
    } else {
      failed++;
      EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.message();
    }
  }
  EXPECT_GT(saved, 0);
  EXPECT_GT(failed, 0);
  auto packs = b.List(FileType::kPack);
  ASSERT_OK(packs);
  EXPECT_EQ(packs->size(), static_cast<size_t>(saved));
  for (const FileInfo& fi : *packs) {
    auto data = b.Load(FileType::kPack, fi.name);
    ASSERT_OK(data);
    EXPECT_EQ(Sha256Hex(*data), fi.name) << "a partial pack under its final name";
  }
  auto removed = b.RemoveTemporaries();
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 0);  // failed saves removed their temporaries
  EXPECT_EQ(mem.OpenDescriptors(), 0u);
}

}  // namespace
}  // namespace clawback::store
