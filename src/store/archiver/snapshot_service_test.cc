#include "store/archiver/snapshot_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "store/backend/mem_backend.h"
#include "store/checker/checker.h"

namespace clawback::store {
namespace {

constexpr KdfParams kFastKdf{1024, 8, 1};

std::string Pseudo(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    s[i] = static_cast<char>(seed >> 56);
  }
  return s;
}

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
    char tmpl[] = "/tmp/clawback-snapsvc.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    InitOptions init;
    init.kdf = kFastKdf;
    init.chunker_polynomial = 0x3da3358b4dc173;
    ASSERT_TRUE(Repository::Init(&mem_, "pw", init).ok());
    auto backend = std::make_unique<FailingPacks>(&mem_);
    faults_ = backend.get();
    auto repo = Repository::Open(faults_, "pw");
    ASSERT_TRUE(repo.ok());
    ASSERT_TRUE((*repo)->LoadIndex().ok());
    svc_ = std::make_unique<SnapshotService>("mem:", std::move(backend), std::move(*repo));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

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
    ASSERT_TRUE(repo.ok());
    ASSERT_TRUE((*repo)->LoadIndex().ok());
    CheckOptions co;
    co.read_data = true;
    Checker checker(repo->get(), co);
    auto report = checker.Run();
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    std::string errors;
    for (const auto& e : report->errors) errors += e + "\n";
    EXPECT_TRUE(report->ok()) << errors;
  }

  std::string dir_;
  MemBackend mem_;
  FailingPacks* faults_ = nullptr;
  std::unique_ptr<SnapshotService> svc_;
};

TEST_F(SnapshotServiceTest, SeesBlobsAnotherWriterIndexedMeanwhile) {
  ASSERT_TRUE(svc_->Take(Paths({Write("a/first", Pseudo(5000, 1))})).ok());
  // Another process stores content the service has never seen.
  std::string content = Pseudo(300000, 2);
  {
    auto other = Repository::Open(&mem_, "pw");
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE((*other)->LoadIndex().ok());
    ASSERT_TRUE((*other)->SaveBlob(BlobType::kData, content).ok());
    ASSERT_TRUE((*other)->Flush().ok());
  }
  // Small enough to be one chunk: the file's single blob is what the other writer stored.
  auto s = svc_->Take(Paths({Write("b/same", content)}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->data_blobs, 0u) << "stored again: the service did not load the new index file";
  ExpectCheckClean();
}

TEST_F(SnapshotServiceTest, ForgetsWhatPruneRemovedMeanwhile) {
  std::string content = Pseudo(200000, 3);
  auto first = svc_->Take(Paths({Write("a/f", content)}));
  ASSERT_TRUE(first.ok());
  // forget + prune by another process: the snapshot, its packs and the index files naming
  // them are gone.
  ASSERT_TRUE(mem_.Remove(FileType::kSnapshot, first->snapshot_id.Hex()).ok());
  for (FileType t : {FileType::kPack, FileType::kIndex}) {
    auto files = mem_.List(t);
    ASSERT_TRUE(files.ok());
    for (const auto& f : *files) ASSERT_TRUE(mem_.Remove(t, f.name).ok());
  }
  auto s = svc_->Take(Paths({Write("b/f", content), Write("b/g", Pseudo(1000, 4))}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->data_blobs, 2u) << "deduplicated against a pack prune removed";
  ExpectCheckClean();
}

TEST_F(SnapshotServiceTest, AFailedSnapshotLeavesNothingTheNextOneTrusts) {
  std::string path = Write("a/f", Pseudo(250000, 5));
  faults_->armed = true;
  auto failed = svc_->Take(Paths({path}));
  ASSERT_FALSE(failed.ok());
  faults_->armed = false;
  // The blob of the failed upload must be stored again, not assumed present.
  auto s = svc_->Take(Paths({path}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->data_blobs, 1u);
  ExpectCheckClean();
}

TEST_F(SnapshotServiceTest, ConcurrentTakesAllLand) {
  std::vector<std::string> paths;
  for (int i = 0; i < 4; ++i) {
    paths.push_back(Write("c" + std::to_string(i) + "/f", Pseudo(100000 + i, 10 + i)));
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
  ASSERT_TRUE(repo.ok());
  auto snaps = (*repo)->ListSnapshots();
  ASSERT_TRUE(snaps.ok());
  EXPECT_EQ(snaps->size(), 4u);
  ExpectCheckClean();
}

}  // namespace
}  // namespace clawback::store
