// MasterIndex: the in-memory union of all index files — blob (id, type) -> where it is
// stored. Sized for millions of blobs: entries are 52-byte records in one vector, found
// through an open-addressing table of 4-byte slots (about 58 bytes per blob in all).
//
// The same blob may be stored in several packs (allowed by the format); LookupAll returns
// every copy, Lookup the first. Listing the same pack twice (it appears in two index
// files) does not duplicate its entries.
//
// Thread-safety: all methods may be called concurrently (a shared mutex: lookups share,
// additions exclude).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "store/id.h"
#include "store/index/index_file.h"
#include "store/pack/pack.h"

namespace clawback::store {

class MasterIndex {
 public:
  struct Location {
    Id pack;
    PackedBlob blob;
  };

  // Adds every blob of one pack.
  void AddPack(const Id& pack, const std::vector<PackedBlob>& blobs);
  // Adds a whole index file and remembers that index `index_id` lists these packs.
  void AddIndexFile(const Id& index_id, const IndexFile& file);

  bool Has(const BlobHandle& h) const;
  std::optional<Location> Lookup(const BlobHandle& h) const;
  std::vector<Location> LookupAll(const BlobHandle& h) const;

  size_t blob_count() const;
  size_t pack_count() const;
  std::vector<Id> Packs() const;
  // The index files loaded (AddIndexFile), for `supersedes` when rewriting the index.
  std::vector<Id> IndexFiles() const;
  // Every stored blob, grouped by nothing in particular. `fn` must not call back into the
  // index's mutating methods.
  void ForEach(const std::function<void(const Id& pack, const PackedBlob& blob)>& fn) const;
  // Blobs of one pack, sorted by offset (empty if the pack is unknown).
  std::vector<PackedBlob> PackBlobs(const Id& pack) const;

  void Clear();

 private:
  struct Entry {
    Id id;
    uint32_t pack;  // index into packs_
    uint32_t offset;
    uint32_t length;
    uint32_t uncompressed_length;
    uint8_t type;
  };

  void InsertLocked(const Entry& e);
  void GrowLocked();
  PackedBlob ToBlob(const Entry& e) const;
  uint32_t PackIndexLocked(const Id& pack);

  mutable std::shared_mutex mu_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_;  // 0 = empty, else entries_ index + 1; size is a power of 2
  std::vector<Id> packs_;
  std::unordered_map<Id, uint32_t, IdHash> pack_ids_;
  std::vector<Id> index_files_;
};

}  // namespace clawback::store
