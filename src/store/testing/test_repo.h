// Small repositories for store tests, built without a file system: an in-memory repository
// with a fast key derivation, and snapshots of one flat directory whose files are given as
// name -> contents (each non-empty file one data blob). Snapshots made here are as real as
// the archiver's: they check clean, restore and prune.
//
//   MemBackend backend;
//   ASSERT_OK_AND_ASSIGN(auto repo, test::InitTestRepo(&backend));
//   ASSERT_OK_AND_ASSIGN(SnapshotEntry s, test::SaveFlatSnapshot(repo.get(), {{"a", "x"}}));
//
// Test-only (include from *_test.cc files). Thread-safety: as the Repository.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/backend/backend.h"
#include "store/repository.h"
#include "store/snapshot.h"
#include "store/tree.h"

namespace clawback::test {

// scrypt parameters that make Init/Open take microseconds (the repository stays valid).
inline constexpr store::KdfParams kFastKdf{1024, 8, 1};

// A new repository on `backend` (which must be empty) with kFastKdf.
inline Result<std::unique_ptr<store::Repository>> InitTestRepo(store::Backend* backend,
                                                               std::string_view password = "pw") {
  store::InitOptions init;
  init.kdf = kFastKdf;
  return store::Repository::Init(backend, password, init);
}

// The tree of a flat directory: one file node per entry of `files`, its contents stored as a
// single data blob (none for an empty file). The tree is saved, not flushed.
inline Result<store::Id> SaveFlatTree(store::Repository* repo,
                                      const std::map<std::string, std::string>& files) {
  store::Tree tree;
  for (const auto& [name, contents] : files) {
    store::Node n;
    n.name = name;
    n.type = store::NodeType::kFile;
    n.mode = 0644;
    n.mtime = n.atime = n.ctime = store::Timestamp::FromUnixUtc(1'700'000'000, 0);
    n.links = 1;
    n.size = contents.size();
    if (!contents.empty()) {
      ASSIGN_OR_RETURN(auto r, repo->SaveBlob(store::BlobType::kData, contents));
      n.content.push_back(r.id);
    }
    tree.nodes.push_back(std::move(n));
  }
  return repo->SaveTree(std::move(tree));
}

// A snapshot of `path` holding `files` (SaveFlatTree), written after a Flush as the
// archiver does, taken at `unix_time`.
inline Result<store::SnapshotEntry> SaveFlatSnapshot(
    store::Repository* repo, const std::map<std::string, std::string>& files,
    int64_t unix_time = 1'700'000'000, const std::string& path = "/data") {
  ASSIGN_OR_RETURN(store::Id tree, SaveFlatTree(repo, files));
  RETURN_IF_ERROR(repo->Flush());
  store::Snapshot s;
  s.time = store::Timestamp::FromUnixUtc(unix_time, 0);
  s.tree = tree;
  s.paths = {path};
  s.hostname = "test-host";
  s.username = "test";
  ASSIGN_OR_RETURN(store::Id id, repo->SaveSnapshot(s));
  return store::SnapshotEntry{id, std::move(s)};
}

}  // namespace clawback::test
