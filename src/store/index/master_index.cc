#include "store/index/master_index.h"

#include <algorithm>
#include <mutex>

namespace clawback::store {

uint32_t MasterIndex::PackIndexLocked(const Id& pack) {
  auto [it, inserted] = pack_ids_.emplace(pack, static_cast<uint32_t>(packs_.size()));
  if (inserted) packs_.push_back(pack);
  return it->second;
}

void MasterIndex::GrowLocked() {
  size_t cap = slots_.empty() ? 1024 : slots_.size() * 2;
  slots_.assign(cap, 0);
  size_t mask = cap - 1;
  for (size_t i = 0; i < entries_.size(); ++i) {
    size_t s = entries_[i].id.Prefix64() & mask;
    while (slots_[s] != 0) s = (s + 1) & mask;
    slots_[s] = static_cast<uint32_t>(i + 1);
  }
}

void MasterIndex::InsertLocked(const Entry& e) {
  if ((entries_.size() + 1) * 10 > slots_.size() * 7) GrowLocked();
  size_t mask = slots_.size() - 1;
  size_t s = e.id.Prefix64() & mask;
  while (slots_[s] != 0) {
    const Entry& o = entries_[slots_[s] - 1];
    // The same copy listed twice (a pack named by two index files): keep one.
    if (o.id == e.id && o.type == e.type && o.pack == e.pack && o.offset == e.offset) return;
    s = (s + 1) & mask;
  }
  entries_.push_back(e);
  slots_[s] = static_cast<uint32_t>(entries_.size());
}

void MasterIndex::AddPack(const Id& pack, const std::vector<PackedBlob>& blobs) {
  std::unique_lock lock(mu_);
  uint32_t p = PackIndexLocked(pack);
  for (const PackedBlob& b : blobs) {
    InsertLocked(Entry{b.id, p, b.offset, b.length, b.uncompressed_length, static_cast<uint8_t>(b.type)});
  }
}

void MasterIndex::AddIndexFile(const Id& index_id, const IndexFile& file) {
  std::unique_lock lock(mu_);
  for (const IndexPack& ip : file.packs) {
    uint32_t p = PackIndexLocked(ip.id);
    for (const PackedBlob& b : ip.blobs) {
      InsertLocked(Entry{b.id, p, b.offset, b.length, b.uncompressed_length, static_cast<uint8_t>(b.type)});
    }
  }
  index_files_.push_back(index_id);
}

PackedBlob MasterIndex::ToBlob(const Entry& e) const {
  PackedBlob b;
  b.id = e.id;
  b.type = static_cast<BlobType>(e.type);
  b.offset = e.offset;
  b.length = e.length;
  b.uncompressed_length = e.uncompressed_length;
  return b;
}

bool MasterIndex::Has(const BlobHandle& h) const { return Lookup(h).has_value(); }

std::optional<MasterIndex::Location> MasterIndex::Lookup(const BlobHandle& h) const {
  std::shared_lock lock(mu_);
  if (slots_.empty()) return std::nullopt;
  size_t mask = slots_.size() - 1;
  size_t s = h.id.Prefix64() & mask;
  auto type = static_cast<uint8_t>(h.type);
  while (slots_[s] != 0) {
    const Entry& e = entries_[slots_[s] - 1];
    if (e.id == h.id && e.type == type) return Location{packs_[e.pack], ToBlob(e)};
    s = (s + 1) & mask;
  }
  return std::nullopt;
}

std::vector<MasterIndex::Location> MasterIndex::LookupAll(const BlobHandle& h) const {
  std::shared_lock lock(mu_);
  std::vector<Location> out;
  if (slots_.empty()) return out;
  size_t mask = slots_.size() - 1;
  size_t s = h.id.Prefix64() & mask;
  auto type = static_cast<uint8_t>(h.type);
  while (slots_[s] != 0) {
    const Entry& e = entries_[slots_[s] - 1];
    if (e.id == h.id && e.type == type) out.push_back(Location{packs_[e.pack], ToBlob(e)});
    s = (s + 1) & mask;
  }
  return out;
}

size_t MasterIndex::blob_count() const {
  std::shared_lock lock(mu_);
  return entries_.size();
}

size_t MasterIndex::pack_count() const {
  std::shared_lock lock(mu_);
  return packs_.size();
}

std::vector<Id> MasterIndex::Packs() const {
  std::shared_lock lock(mu_);
  return packs_;
}

std::vector<Id> MasterIndex::IndexFiles() const {
  std::shared_lock lock(mu_);
  return index_files_;
}

void MasterIndex::ForEach(const std::function<void(const Id& pack, const PackedBlob& blob)>& fn) const {
  std::shared_lock lock(mu_);
  for (const Entry& e : entries_) fn(packs_[e.pack], ToBlob(e));
}

std::vector<PackedBlob> MasterIndex::PackBlobs(const Id& pack) const {
  std::shared_lock lock(mu_);
  std::vector<PackedBlob> out;
  auto it = pack_ids_.find(pack);
  if (it == pack_ids_.end()) return out;
  for (const Entry& e : entries_) {
    if (e.pack == it->second) out.push_back(ToBlob(e));
  }
  std::sort(out.begin(), out.end(), [](const PackedBlob& a, const PackedBlob& b) { return a.offset < b.offset; });
  return out;
}

void MasterIndex::Clear() {
  std::unique_lock lock(mu_);
  entries_.clear();
  slots_.clear();
  packs_.clear();
  pack_ids_.clear();
  index_files_.clear();
}

}  // namespace clawback::store
