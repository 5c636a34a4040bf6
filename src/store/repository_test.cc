#include "store/repository.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "store/backend/mem_backend.h"
#include "store/unpacked.h"

namespace clawback::store {
namespace {

constexpr KdfParams kFastKdf{1024, 8, 1};

InitOptions FastInit() {
  InitOptions o;
  o.kdf = kFastKdf;
  o.chunker_polynomial = 0x3da3358b4dc173;
  return o;
}

std::string Pseudo(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    s[i] = static_cast<char>(seed >> 56);
  }
  return s;
}

TEST(Repository, InitOpenAndWrongPassword) {
  MemBackend mem;
  auto repo = Repository::Init(&mem, "pw", FastInit());
  ASSERT_TRUE(repo.ok()) << repo.status().ToString();
  EXPECT_EQ((*repo)->config().version, 2);
  EXPECT_EQ((*repo)->config().chunker_polynomial, 0x3da3358b4dc173u);
  EXPECT_EQ(Repository::Init(&mem, "pw", FastInit()).status().code(), StatusCode::kAlreadyExists);

  auto opened = Repository::Open(&mem, "pw");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ((*opened)->config().id, (*repo)->config().id);
  EXPECT_EQ((*opened)->key_id(), (*repo)->key_id());

  auto wrong = Repository::Open(&mem, "nope");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kWrongPassword);
  EXPECT_NE(wrong.status().message().find("wrong password"), std::string::npos);

  MemBackend empty;
  EXPECT_EQ(Repository::Open(&empty, "pw").status().code(), StatusCode::kFailedPrecondition);
}

// The key derivation runs its lanes on several threads: a key with several lanes opens
// with its password, and a wrong one still fails with WrongPassword and writes nothing.
TEST(Repository, MultiLaneKeyOpensAndWrongPasswordWritesNothing) {
  MemBackend mem;
  InitOptions init = FastInit();
  init.kdf = KdfParams{1024, 8, 5};
  ASSERT_TRUE(Repository::Init(&mem, "pw", init).ok());
  auto listing = [&] {
    std::vector<std::string> all;
    for (FileType t : {FileType::kConfig, FileType::kKey, FileType::kLock, FileType::kSnapshot, FileType::kIndex,
                       FileType::kPack}) {
      auto files = mem.List(t);
      EXPECT_TRUE(files.ok());
      if (!files.ok()) continue;
      for (const FileInfo& f : *files) all.push_back(std::string(FileTypeDir(t)) + "/" + f.name);
    }
    std::sort(all.begin(), all.end());
    return all;
  };
  const auto before = listing();
  auto wrong = Repository::Open(&mem, "nope");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kWrongPassword);
  EXPECT_EQ(listing(), before);
  auto right = Repository::Open(&mem, "pw");
  ASSERT_TRUE(right.ok()) << right.status().ToString();
  EXPECT_EQ(listing(), before);
}

TEST(Repository, SecondKeyOpensSameMasterKey) {
  MemBackend mem;
  auto repo = Repository::Init(&mem, "first", FastInit());
  ASSERT_TRUE(repo.ok());
  auto id = (*repo)->AddKey("second", kFastKdf);
  ASSERT_TRUE(id.ok());
  auto opened = Repository::Open(&mem, "second");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ((*opened)->key_id(), *id);
  EXPECT_EQ((*opened)->key().encrypt, (*repo)->key().encrypt);
}

TEST(Repository, MalformedKeyFileAbortsTheSearch) {
  MemBackend mem;
  ASSERT_TRUE(Repository::Init(&mem, "pw", FastInit()).ok());
  std::string junk = "{not json";
  ASSERT_TRUE(mem.Save(FileType::kKey, std::string(64, '0'), junk).ok());  // sorts first
  auto r = Repository::Open(&mem, "pw");
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
}

TEST(Repository, SaveFlushReopenLoad) {
  MemBackend mem;
  RepositoryOptions opts;
  opts.pack_size = 256 * 1024;  // several packs
  auto repo = Repository::Init(&mem, "pw", FastInit(), opts).value();
  std::vector<std::string> blobs;
  for (int i = 0; i < 40; ++i) blobs.push_back(Pseudo(20000 + i * 100, i + 1));
  blobs.push_back(std::string(100000, 'c'));  // compressible
  for (const auto& b : blobs) {
    auto r = repo->SaveBlob(BlobType::kData, b);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE(r->known);
    EXPECT_EQ(r->id, Id::Hash(b));
  }
  // Duplicates are recognised before and after the pack is written.
  EXPECT_TRUE(repo->SaveBlob(BlobType::kData, blobs[0]).value().known);
  EXPECT_TRUE(repo->SaveBlob(BlobType::kData, blobs.back()).value().known);
  Tree tree;
  Node n;
  n.name = "f";
  n.type = NodeType::kFile;
  n.content = {Id::Hash(blobs[0])};
  n.size = blobs[0].size();
  tree.nodes.push_back(n);
  auto tree_id = repo->SaveTree(tree);
  ASSERT_TRUE(tree_id.ok());
  // Readable from the open repository even before Flush? Only once packs are written; after
  // Flush certainly.
  ASSERT_TRUE(repo->Flush().ok());
  auto stats = repo->write_stats();
  EXPECT_EQ(stats.blobs_saved, 42u);
  EXPECT_EQ(stats.blobs_known, 2u);
  EXPECT_GE(stats.packs_written, 3u);
  EXPECT_EQ(stats.index_files_written, 1u);
  EXPECT_LT(repo->write_stats().bytes_stored, repo->write_stats().bytes_plain);

  // Data and tree blobs sit in separate packs.
  auto reopened = Repository::Open(&mem, "pw").value();
  ASSERT_TRUE(reopened->LoadIndex().ok());
  EXPECT_EQ(reopened->index().blob_count(), 42u);
  auto tree_loc = reopened->index().Lookup({*tree_id, BlobType::kTree});
  ASSERT_TRUE(tree_loc.has_value());
  for (const auto& b : reopened->index().PackBlobs(tree_loc->pack)) EXPECT_EQ(b.type, BlobType::kTree);
  EXPECT_TRUE(tree_loc->blob.compressed());
  for (const auto& b : blobs) {
    auto got = reopened->LoadBlob(BlobType::kData, Id::Hash(b));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, b);
  }
  auto t = reopened->LoadTree(*tree_id);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->nodes[0].name, "f");
  EXPECT_EQ(reopened->LoadBlob(BlobType::kData, Id::Hash("missing")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reopened->LoadBlob(BlobType::kTree, Id::Hash(blobs[0])).status().code(), StatusCode::kNotFound);
  // The same through reused buffers (largest first, so they only ever shrink).
  std::string plain, scratch;
  for (auto it = blobs.rbegin(); it != blobs.rend(); ++it) {
    ASSERT_TRUE(reopened->LoadBlobInto(BlobType::kData, Id::Hash(*it), &plain, &scratch).ok());
    EXPECT_EQ(plain, *it);
  }
  EXPECT_EQ(reopened->LoadBlobInto(BlobType::kData, Id::Hash("missing"), &plain, &scratch).code(),
            StatusCode::kNotFound);

  // Every pack parses from its own header and agrees with the index.
  for (const Id& pack : reopened->index().Packs()) {
    auto bytes = mem.Load(FileType::kPack, pack.Hex(), 0, 0).value();
    EXPECT_EQ(Id::Hash(bytes), pack);
    auto header = ParsePack(reopened->key(), bytes);
    ASSERT_TRUE(header.ok());
    EXPECT_EQ(*header, reopened->index().PackBlobs(pack));
  }
}

TEST(Repository, ConcurrentSaversStoreEachBlobOnce) {
  MemBackend mem;
  RepositoryOptions opts;
  opts.pack_size = 128 * 1024;
  opts.index_blobs_per_file = 50;  // also exercises the periodic index write
  auto repo = Repository::Init(&mem, "pw", FastInit(), opts).value();
  std::vector<std::string> blobs;
  for (int i = 0; i < 200; ++i) blobs.push_back(Pseudo(5000, i));
  std::atomic<int> stored{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (const auto& b : blobs) {
        auto r = repo->SaveBlob(BlobType::kData, b);
        ASSERT_TRUE(r.ok());
        if (!r->known) ++stored;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(stored.load(), 200);
  ASSERT_TRUE(repo->Flush().ok());
  EXPECT_GE(repo->write_stats().index_files_written, 2u);
  auto reopened = Repository::Open(&mem, "pw").value();
  ASSERT_TRUE(reopened->LoadIndex().ok());
  EXPECT_EQ(reopened->index().blob_count(), 200u);
  for (const auto& b : blobs) EXPECT_EQ(reopened->LoadBlob(BlobType::kData, Id::Hash(b)).value(), b);
}

TEST(Repository, SnapshotsListFindAndLatest) {
  MemBackend mem;
  auto repo = Repository::Init(&mem, "pw", FastInit()).value();
  auto tree = repo->SaveTree(Tree{});
  ASSERT_TRUE(tree.ok());
  ASSERT_TRUE(repo->Flush().ok());
  Snapshot a;
  a.time = Timestamp::FromUnixUtc(1700000000, 0);
  a.tree = *tree;
  a.paths = {"/srv"};
  a.tags = {"conversation=0190", "reason=pre"};
  Snapshot b = a;
  b.time = Timestamp::FromUnixUtc(1700000100, 5);
  b.tags = {"reason=post"};
  auto ida = repo->SaveSnapshot(a).value();
  auto idb = repo->SaveSnapshot(b).value();
  auto all = repo->ListSnapshots();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, ida);
  EXPECT_EQ((*all)[1].id, idb);
  EXPECT_TRUE((*all)[0].snapshot.HasTag("reason=pre"));
  EXPECT_EQ(repo->FindSnapshot("latest").value().id, idb);
  EXPECT_EQ(repo->FindSnapshot(ida.Hex().substr(0, 8)).value().id, ida);
  EXPECT_EQ(repo->FindSnapshot("ffffffffffff").status().code(), StatusCode::kNotFound);
  // Snapshot files are v2-encoded (0x02 + zstd) and named by their hash.
  auto raw = mem.Load(FileType::kSnapshot, ida.Hex(), 0, 0).value();
  EXPECT_EQ(Id::Hash(raw), ida);
  EXPECT_EQ(Open(repo->key(), raw).value()[0], '\x02');
  EXPECT_EQ(DecodeUnpacked(repo->key(), raw).value(), a.ToJson());
  // A corrupted file is reported, not crashed on.
  MemBackend other;
  ASSERT_TRUE(other.Save(FileType::kSnapshot, ida.Hex(), "garbage").ok());
  EXPECT_EQ(repo->LoadUnpacked(FileType::kSnapshot, Id::Hash("x")).status().code(), StatusCode::kNotFound);
}

TEST(Repository, DetectsCorruptedPackAndTriesOtherCopies) {
  MemBackend mem;
  auto repo = Repository::Init(&mem, "pw", FastInit()).value();
  std::string blob = Pseudo(3000, 9);
  ASSERT_TRUE(repo->SaveBlob(BlobType::kData, blob).ok());
  ASSERT_TRUE(repo->Flush().ok());
  Id pack = repo->index().Packs()[0];
  auto bytes = mem.Load(FileType::kPack, pack.Hex(), 0, 0).value();
  // A second, intact copy in another pack (written by hand).
  PackWriter w;
  std::string stored;
  uint32_t ulen = SealBlobAppend(repo->key(), blob, true, 3, &stored);
  w.Add(BlobType::kData, Id::Hash(blob), stored, ulen);
  auto f = w.Finish(repo->key());
  ASSERT_TRUE(mem.Save(FileType::kPack, f.id.Hex(), f.bytes).ok());
  // Corrupt the first pack.
  bytes[20] ^= 0x40;
  ASSERT_TRUE(mem.Remove(FileType::kPack, pack.Hex()).ok());
  ASSERT_TRUE(mem.Save(FileType::kPack, pack.Hex(), bytes).ok());
  auto r = repo->LoadBlobAt(pack, repo->index().Lookup({Id::Hash(blob), BlobType::kData})->blob);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  repo->index().AddPack(f.id, f.blobs);
  EXPECT_EQ(repo->LoadBlob(BlobType::kData, Id::Hash(blob)).value(), blob);
}

TEST(Repository, FailedUploadIsSticky) {
  MemBackend mem;
  auto repo = Repository::Init(&mem, "pw", FastInit()).value();
  class FailingSaves : public ForwardingBackend {
   public:
    using ForwardingBackend::ForwardingBackend;
    Status Save(FileType t, const std::string& name, std::string_view data) override {
      if (t == FileType::kPack) return IOError("disk full");
      return ForwardingBackend::Save(t, name, data);
    }
  };
  FailingSaves failing(&mem);
  auto broken = Repository::Open(&failing, "pw").value();
  ASSERT_TRUE(broken->SaveBlob(BlobType::kData, "abc").ok());
  Status st = broken->Flush();
  EXPECT_EQ(st.code(), StatusCode::kIOError);
  EXPECT_EQ(broken->SaveBlob(BlobType::kData, "def").status().code(), StatusCode::kIOError);
  EXPECT_EQ(broken->Flush().code(), StatusCode::kIOError);
}

}  // namespace
}  // namespace clawback::store

namespace clawback::store {
namespace {

TEST(Repository, LoadPackHeaderShortAndLongHeaders) {
  MemBackend mem;
  RepositoryOptions opts;
  opts.pack_size = 1 << 20;
  auto repo = Repository::Init(&mem, "pw", FastInit(), opts).value();
  // 40 small blobs: the header (40 entries) is longer than the eager 15-entry read.
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(repo->SaveBlob(BlobType::kData, "blob " + std::to_string(i)).ok());
  ASSERT_TRUE(repo->SaveBlob(BlobType::kTree, "{\"nodes\":[]}\n").ok());
  ASSERT_TRUE(repo->Flush().ok());
  for (const Id& pack : repo->index().Packs()) {
    auto header = repo->LoadPackHeader(pack);
    ASSERT_TRUE(header.ok()) << header.status().ToString();
    EXPECT_EQ(*header, repo->index().PackBlobs(pack));
  }
  EXPECT_EQ(repo->LoadPackHeader(Id::Hash("nope")).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace clawback::store
