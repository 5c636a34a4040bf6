// Prune: remove data no snapshot references (restic format spec §14, §15.2).
//
// REQUIRES: an exclusive lock (RepoLock) is held; the index is loaded.
//
//   1. Walk every snapshot and collect the used blobs. A used blob missing from the index
//      aborts ("index is not complete") — nothing is deleted then.
//   2. Classify the indexed packs: all blobs used -> keep; none used -> delete; some used
//      -> repack (used blobs are copied into new packs). Duplicate copies of a blob count
//      once. Packs in data/ that no index lists are deleted. Indexed packs that are missing
//      abort the prune if they hold used blobs, otherwise their entries are dropped.
//   3. Order, so that a crash at any point leaves a valid repository: upload the new packs,
//      write the new index (its `supersedes` names every old index file), delete the old
//      index files, and only then delete the obsolete packs.
//   4. Delete the temporary files that interrupted writes left (not in a dry run).
//
// Thread-safety: one prune at a time (the exclusive lock guarantees it).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "store/repository.h"

namespace clawback::store {

struct PruneOptions {
  bool dry_run = false;
};

struct PruneReport {
  uint64_t packs_total = 0;
  uint64_t packs_kept = 0, packs_deleted = 0, packs_repacked = 0, packs_unindexed = 0;
  uint64_t packs_written = 0;
  uint64_t blobs_used = 0, blobs_unused = 0, blobs_repacked = 0;
  uint64_t bytes_freed = 0;  // stored bytes of deleted packs minus those of new packs
  uint64_t index_files_removed = 0, index_files_written = 0;
  uint64_t temporaries_removed = 0;  // files interrupted writes left (Backend::RemoveTemporaries)
};

Result<PruneReport> Prune(Repository* repo, const PruneOptions& options);

}  // namespace clawback::store
