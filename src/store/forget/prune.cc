#include "store/forget/prune.h"

#include <unordered_map>
#include <unordered_set>

#include "store/index/index_file.h"

namespace clawback::store {
namespace {

struct HandleHash {
  size_t operator()(const BlobHandle& h) const {
    return static_cast<size_t>(h.id.Prefix64()) ^ static_cast<size_t>(h.type);
  }
};
using HandleSet = std::unordered_set<BlobHandle, HandleHash>;

Status CollectUsed(Repository* repo, const Id& tree, HandleSet* used,
                   std::unordered_set<Id, IdHash>* seen) {
  if (!seen->insert(tree).second) return Status::Ok();
  used->insert({tree, BlobType::kTree});
  if (!repo->HasBlob(BlobType::kTree, tree)) {
    return FailedPrecondition("index is not complete: tree " + tree.ShortHex() +
                              " is used but not indexed; nothing was pruned");
  }
  ASSIGN_OR_RETURN(Tree t, repo->LoadTree(tree));
  for (const Node& n : t.nodes) {
    for (const Id& b : n.content) {
      if (!repo->HasBlob(BlobType::kData, b)) {
        return FailedPrecondition("index is not complete: data blob " + b.ShortHex() +
                                  " is used but not indexed; nothing was pruned");
      }
      used->insert({b, BlobType::kData});
    }
    if (n.type == NodeType::kDir && n.subtree) RETURN_IF_ERROR(CollectUsed(repo, *n.subtree, used, seen));
  }
  return Status::Ok();
}

}  // namespace

Result<PruneReport> Prune(Repository* repo, const PruneOptions& options) {
  PruneReport rep;
  ASSIGN_OR_RETURN(auto snaps, repo->ListSnapshots(/*skip_broken=*/false));
  HandleSet used;
  std::unordered_set<Id, IdHash> seen;
  for (const auto& s : snaps) RETURN_IF_ERROR(CollectUsed(repo, s.snapshot.tree, &used, &seen));
  rep.blobs_used = used.size();

  ASSIGN_OR_RETURN(auto listed, repo->backend()->List(FileType::kPack));
  std::unordered_map<Id, int64_t, IdHash> on_disk;
  for (const auto& f : listed) {
    auto id = Id::Parse(f.name);
    if (id.ok()) on_disk[*id] = f.size;
  }

  const std::vector<Id> packs = repo->index().Packs();
  rep.packs_total = packs.size();
  std::unordered_map<Id, std::vector<PackedBlob>, IdHash> keep_packs;
  std::vector<std::pair<Id, std::vector<PackedBlob>>> repack;  // pack, blobs to copy
  std::vector<Id> delete_packs;
  HandleSet placed;  // used blobs already kept in some pack
  // First pass: packs whose every blob is used and not yet placed are kept as they are.
  std::unordered_map<Id, std::vector<PackedBlob>, IdHash> blobs_of;
  for (const Id& p : packs) blobs_of[p] = repo->index().PackBlobs(p);
  for (const Id& p : packs) {
    const auto& blobs = blobs_of[p];
    const bool present = on_disk.count(p) != 0;
    bool all_used = present;
    for (const auto& b : blobs) {
      if (!used.count({b.id, b.type}) || placed.count({b.id, b.type})) all_used = false;
    }
    if (all_used) {
      for (const auto& b : blobs) placed.insert({b.id, b.type});
      keep_packs[p] = blobs;
    }
  }
  // Second pass: the rest is repacked (what is still needed) or deleted.
  for (const Id& p : packs) {
    if (keep_packs.count(p)) continue;
    const auto& blobs = blobs_of[p];
    const bool present = on_disk.count(p) != 0;
    std::vector<PackedBlob> copy;
    for (const auto& b : blobs) {
      BlobHandle h{b.id, b.type};
      if (used.count(h) && !placed.count(h)) {
        if (!present) continue;  // maybe another copy; checked below
        copy.push_back(b);
        placed.insert(h);
      } else {
        rep.blobs_unused++;
      }
    }
    if (copy.empty()) {
      if (present) delete_packs.push_back(p);
    } else {
      repack.emplace_back(p, std::move(copy));
    }
  }
  for (const auto& h : used) {
    if (!placed.count(h)) {
      return FailedPrecondition(std::string(BlobTypeName(h.type)) + " blob " + h.id.ShortHex() +
                                " is used but its pack is missing; nothing was pruned (run "
                                "`clawback check`)");
    }
  }
  std::vector<Id> unindexed;
  for (const auto& [id, size] : on_disk) {
    if (!blobs_of.count(id)) unindexed.push_back(id);
  }
  rep.packs_kept = keep_packs.size();
  rep.packs_deleted = delete_packs.size();
  rep.packs_repacked = repack.size();
  rep.packs_unindexed = unindexed.size();
  for (const Id& p : delete_packs) rep.bytes_freed += static_cast<uint64_t>(on_disk[p]);
  for (const Id& p : unindexed) rep.bytes_freed += static_cast<uint64_t>(on_disk[p]);
  for (const auto& [p, blobs] : repack) {
    rep.bytes_freed += static_cast<uint64_t>(on_disk[p]);
    rep.blobs_repacked += blobs.size();
  }
  const bool nothing = delete_packs.empty() && repack.empty() && unindexed.empty();
  if (options.dry_run) return rep;
  // Leftovers of interrupted writes: nothing else writes while the exclusive lock is held.
  ASSIGN_OR_RETURN(int64_t temporaries, repo->backend()->RemoveTemporaries());
  rep.temporaries_removed = static_cast<uint64_t>(temporaries);
  if (nothing) return rep;

  // Read what must be copied while the old index still knows where it is.
  std::vector<std::pair<BlobType, std::string>> copies;
  for (const auto& [p, blobs] : repack) {
    for (const auto& b : blobs) {
      ASSIGN_OR_RETURN(std::string plain, repo->LoadBlobAt(p, b));
      copies.emplace_back(b.type, std::move(plain));
    }
  }
  const std::vector<Id> old_index_files = repo->index().IndexFiles();
  ASSIGN_OR_RETURN(auto index_before, repo->List(FileType::kIndex));
  // The index now holds only the packs we keep, so the copies are stored anew.
  repo->index().Clear();
  for (const auto& [p, blobs] : keep_packs) repo->index().AddPack(p, blobs);
  const auto stats_before = repo->write_stats();
  for (auto& [type, plain] : copies) {
    ASSIGN_OR_RETURN(auto r, repo->SaveBlob(type, plain));
    (void)r;
    plain.clear();
    plain.shrink_to_fit();
  }
  RETURN_IF_ERROR(repo->Flush());
  const auto stats_after = repo->write_stats();
  rep.packs_written = stats_after.packs_written - stats_before.packs_written;
  rep.bytes_freed -= std::min<uint64_t>(rep.bytes_freed, stats_after.bytes_stored - stats_before.bytes_stored);

  // One new index over everything kept, superseding every index file there is.
  ASSIGN_OR_RETURN(auto index_after, repo->List(FileType::kIndex));
  IndexFile file;
  std::unordered_set<Id, IdHash> supersede(index_before.begin(), index_before.end());
  for (const Id& i : index_after) supersede.insert(i);
  for (const Id& i : old_index_files) supersede.insert(i);
  file.supersedes.assign(supersede.begin(), supersede.end());
  for (const Id& p : repo->index().Packs()) file.packs.push_back({p, repo->index().PackBlobs(p)});
  ASSIGN_OR_RETURN(Id new_index, repo->SaveUnpacked(FileType::kIndex, file.ToJson()));
  rep.index_files_written = 1;
  for (const Id& i : supersede) {
    if (i == new_index) continue;
    Status st = repo->backend()->Remove(FileType::kIndex, i.Hex());
    if (!st.ok() && st.code() != StatusCode::kNotFound) return st;
    rep.index_files_removed++;
  }
  // Only now the packs.
  auto remove_pack = [&](const Id& p) -> Status {
    Status st = repo->backend()->Remove(FileType::kPack, p.Hex());
    if (!st.ok() && st.code() != StatusCode::kNotFound) return st;
    return Status::Ok();
  };
  for (const Id& p : delete_packs) RETURN_IF_ERROR(remove_pack(p));
  for (const auto& [p, blobs] : repack) RETURN_IF_ERROR(remove_pack(p));
  for (const Id& p : unindexed) RETURN_IF_ERROR(remove_pack(p));
  // Keep the in-memory index truthful for later use of `repo`.
  repo->index().Clear();
  repo->index().AddIndexFile(new_index, file);
  return rep;
}

}  // namespace clawback::store
