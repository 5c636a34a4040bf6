// FileSaver: files chunked and stored as data blobs, unchanged files reused from the
// parent, small files read whole, counters, and read errors as warning-class statuses.
#include "store/archiver/file_saver.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/testing/random_data.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "store/archiver/fs_node.h"
#include "store/backend/mem_backend.h"
#include "store/chunker/chunker.h"
#include "store/testing/test_repo.h"

namespace clawback::store {
namespace {

using test::RandomBytes;

class FileSaverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(repo_, test::InitTestRepo(&backend_));
    saver_ = std::make_unique<FileSaver>(repo_.get(), &counters_, false,
                                         [this](const Status&) { fatals_++; });
  }

  std::string Write(const std::string& name, const std::string& data) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }
  Node NodeOf(const std::string& path) {
    struct stat st;
    EXPECT_EQ(lstat(path.c_str(), &st), 0);
    OwnerNames names;
    auto n = NodeFromStat(path, path.substr(path.rfind('/') + 1), st, &names);
    EXPECT_OK(n);
    return n.ok() ? *n : Node();
  }
  // The file's contents from its stored blobs.
  std::string Reassemble(const Node& node) {
    EXPECT_OK(repo_->Flush());
    std::string out;
    for (const Id& id : node.content) {
      auto b = repo_->LoadBlob(BlobType::kData, id);
      EXPECT_OK(b);
      if (b.ok()) out += *b;
    }
    return out;
  }

  test::TempDir tmp_{"clawback-filesaver"};
  std::string dir_ = tmp_.str();
  MemBackend backend_;
  std::unique_ptr<Repository> repo_;
  ArchiveCounters counters_;
  int fatals_ = 0;
  std::unique_ptr<FileSaver> saver_;
};

TEST_F(FileSaverTest, StoresAFileAsChunksAndDeduplicates) {
  const std::string data = RandomBytes(5 << 20, 1);
  const std::string path = Write("big", data);
  Node node = NodeOf(path);
  ASSERT_OK(saver_->StoreFile(path, -1, "big", &node, nullptr));
  EXPECT_GE(node.content.size(), 2u);
  EXPECT_EQ(node.size, data.size());
  EXPECT_TRUE(Reassemble(node) == data);
  EXPECT_EQ(counters_.files, 1u);
  EXPECT_EQ(counters_.files_new, 1u);
  EXPECT_EQ(counters_.bytes_read, data.size());
  EXPECT_EQ(counters_.data_blobs, node.content.size());
  EXPECT_EQ(counters_.data_added, data.size());
  // The same bytes again (as a changed file of the parent): no new blob.
  const std::string copy = Write("copy", data);
  Node again = NodeOf(copy);
  ASSERT_OK(saver_->StoreFile(copy, -1, "copy", &again, &node));
  EXPECT_EQ(again.content, node.content);
  EXPECT_EQ(counters_.files_changed, 1u);
  EXPECT_EQ(counters_.data_blobs, node.content.size());
  EXPECT_EQ(fatals_, 0);
}

TEST_F(FileSaverTest, ReusesAnUnchangedFileWhoseBlobsAreThere) {
  const std::string path = Write("f", RandomBytes(10000, 2));
  Node stored = NodeOf(path);
  ASSERT_OK(saver_->StoreFile(path, -1, "f", &stored, nullptr));
  ASSERT_OK(repo_->Flush());  // HasBlob: indexed, i.e. in a written pack
  const uint64_t read_before = counters_.bytes_read;
  Node now = NodeOf(path);
  EXPECT_TRUE(saver_->ReuseParentContent(&now, &stored));
  EXPECT_EQ(now.content, stored.content);
  EXPECT_EQ(counters_.files_unmodified, 1u);
  EXPECT_EQ(counters_.bytes_read, read_before);  // not opened
  // A blob no longer in the repository, a changed file, no parent, or no_parent: re-read.
  Node missing = stored;
  missing.content = {Id::Hash("not stored")};
  EXPECT_FALSE(saver_->ReuseParentContent(&now, &missing));
  Node changed = stored;
  changed.size++;
  EXPECT_FALSE(saver_->ReuseParentContent(&now, &changed));
  EXPECT_FALSE(saver_->ReuseParentContent(&now, nullptr));
  FileSaver no_parent(repo_.get(), &counters_, true, [](const Status&) {});
  EXPECT_FALSE(no_parent.ReuseParentContent(&now, &stored));
}

TEST_F(FileSaverTest, ReadSmallReadsWholeFilesUpToOneChunk) {
  const std::string small = RandomBytes(3000, 3);
  const std::string p1 = Write("small", small);
  const std::string p2 = Write("large", RandomBytes(Chunker::kMinSize + 1, 4));
  std::string out;
  auto r = FileSaver::ReadSmall(p1, -1, "small", &out);
  ASSERT_OK(r);
  EXPECT_TRUE(*r);
  EXPECT_TRUE(out == small);
  r = FileSaver::ReadSmall(p2, -1, "large", &out);
  ASSERT_OK(r);
  EXPECT_FALSE(*r);  // grew past one chunk
}

TEST_F(FileSaverTest, OpensRelativeToItsDirectoryAndReportsMissingFiles) {
  const std::string data = RandomBytes(2000, 5);
  Write("rel", data);
  const int dirfd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dirfd, 0);
  Node node;
  node.type = NodeType::kFile;
  // The path is wrong on purpose: with a directory descriptor only the name is used.
  const std::string path = "/nonexistent/rel";
  ASSERT_TRUE(
      saver_->StoreFile(path, dirfd, std::string_view(path).substr(13), &node, nullptr).ok());
  EXPECT_TRUE(Reassemble(node) == data);
  close(dirfd);
  Node gone;
  Status s = saver_->StoreFile(dir_ + "/gone", -1, "gone", &gone, nullptr);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "open " + dir_ + "/gone: No such file or directory");
  EXPECT_EQ(fatals_, 0);  // a warning, not fatal
}

}  // namespace
}  // namespace clawback::store
