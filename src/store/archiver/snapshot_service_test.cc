#include "store/archiver/snapshot_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/testing/random_data.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "store/backend/mem_backend.h"
#include "store/checker/checker.h"

namespace clawback::store {
namespace {

constexpr KdfParams kFastKdf{1024, 8, 1};

using test::RandomBytes;

// Fails pack uploads while armed (a flaky S3, a full disk).
class FailingPacks : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  std::atomic<bool> armed{false};
  Status Save(FileType t, const std::string& name, std::string_view data) override {
    if (armed && t == FileType::kPack) return Unavailable("injected: pack upload failed");
    return ForwardingBackend::Save(t, name, data);
  }
};

class SnapshotServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitOptions init;
    init.kdf = kFastKdf;
    init.chunker_polynomial = 0x3da3358b4dc173;
    ASSERT_OK(Repository::Init(&mem_, "pw", init));
    auto backend = std::make_unique<FailingPacks>(&mem_);
    faults_ = backend.get();
    auto repo = Repository::Open(faults_, "pw");
    ASSERT_OK(repo);
    ASSERT_OK((*repo)->LoadIndex());
    svc_ = std::make_unique<SnapshotService>("mem:", std::move(backend), std::move(*repo));
  }

  std::string Write(const std::string& rel, const std::string& content) {
    std::filesystem::path p = std::filesystem::path(dir_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  ArchiveOptions Paths(std::vector<std::string> paths) {
    ArchiveOptions a;
    a.paths = std::move(paths);
    a.hostname = "test";
    return a;
  }
  // A fresh reader (another process) checks the repository's structure.
  void ExpectCheckClean() {
    auto repo = Repository::Open(&mem_, "pw");
    ASSERT_OK(repo);
    ASSERT_OK((*repo)->LoadIndex());
    CheckOptions co;
    co.read_data = true;
    Checker checker(repo->get(), co);
    auto report = checker.Run();
    ASSERT_OK(report);
    std::string errors;
    for (const auto& e : report->errors) errors += e + "\n";
    EXPECT_TRUE(report->ok()) << errors;
  }

  test::TempDir tmp_{"clawback-snapsvc"};
  std::string dir_ = tmp_.str();
  MemBackend mem_;
  FailingPacks* faults_ = nullptr;
  std::unique_ptr<SnapshotService> svc_;
};

TEST_F(SnapshotServiceTest, SeesBlobsAnotherWriterIndexedMeanwhile) {
  ASSERT_OK(svc_->Take(Paths({Write("a/first", RandomBytes(5000, 1))})));
  // Another process stores content the service has never seen.
  std::string content = RandomBytes(300000, 2);
  {
    auto other = Repository::Open(&mem_, "pw");
    ASSERT_OK(other);
    ASSERT_OK((*other)->LoadIndex());
    ASSERT_OK((*other)->SaveBlob(BlobType::kData, content));
    ASSERT_OK((*other)->Flush());
  }
  // Small enough to be one chunk: the file's single blob is what the other writer stored.
  auto s = svc_->Take(Paths({Write("b/same", content)}));
  ASSERT_OK(s);
  EXPECT_EQ(s->data_blobs, 0u) << "stored again: the service did not load the new index file";
  ExpectCheckClean();
}

TEST_F(SnapshotServiceTest, ForgetsWhatPruneRemovedMeanwhile) {
  std::string content = RandomBytes(200000, 3);
  auto first = svc_->Take(Paths({Write("a/f", content)}));
  ASSERT_OK(first);
  // forget + prune by another process: the snapshot, its packs and the index files naming
  // them are gone.
  ASSERT_OK(mem_.Remove(FileType::kSnapshot, first->snapshot_id.Hex()));
  for (FileType t : {FileType::kPack, FileType::kIndex}) {
    auto files = mem_.List(t);
    ASSERT_OK(files);
    for (const auto& f : *files) ASSERT_OK(mem_.Remove(t, f.name));
  }
  auto s = svc_->Take(Paths({Write("b/f", content), Write("b/g", RandomBytes(1000, 4))}));
  ASSERT_OK(s);
  EXPECT_EQ(s->data_blobs, 2u) << "deduplicated against a pack prune removed";
  ExpectCheckClean();
}

TEST_F(SnapshotServiceTest, AFailedSnapshotLeavesNothingTheNextOneTrusts) {
  std::string path = Write("a/f", RandomBytes(250000, 5));
  faults_->armed = true;
  auto failed = svc_->Take(Paths({path}));
  ASSERT_FALSE(failed.ok());
  faults_->armed = false;
  // The blob of the failed upload must be stored again, not assumed present.
  auto s = svc_->Take(Paths({path}));
  ASSERT_OK(s);
  EXPECT_EQ(s->data_blobs, 1u);
  ExpectCheckClean();
}

TEST_F(SnapshotServiceTest, ConcurrentTakesAllLand) {
  std::vector<std::string> paths;
  for (int i = 0; i < 4; ++i) {
    paths.push_back(Write("c" + std::to_string(i) + "/f", RandomBytes(100000 + i, 10 + i)));
    Write("c" + std::to_string(i) + "/shared", "the same in every directory");
  }
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto s = svc_->Take(Paths({std::filesystem::path(paths[static_cast<size_t>(i)]).parent_path().string()}));
      if (s.ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  auto repo = Repository::Open(&mem_, "pw");
  ASSERT_OK(repo);
  auto snaps = (*repo)->ListSnapshots();
  ASSERT_OK(snaps);
  EXPECT_EQ(snaps->size(), 4u);
  ExpectCheckClean();
}

}  // namespace
}  // namespace clawback::store
