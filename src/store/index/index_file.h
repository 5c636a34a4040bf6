// Index files (restic format spec §8): an unpacked file whose JSON lists packs and the
// blobs inside them:
//   {"supersedes":[...],"packs":[{"id":"…","blobs":[{"id":"…","type":"data","offset":0,
//     "length":50,"uncompressed_length":9}]}]}
// `supersedes` is omitted when empty; `uncompressed_length` only for compressed blobs. The
// v1-era bare array of packs is read (old_format) but never written.
//
// Thread-safety: values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/id.h"
#include "store/pack/pack.h"

namespace clawback::store {

struct IndexPack {
  Id id;
  std::vector<PackedBlob> blobs;
};

struct IndexFile {
  std::vector<Id> supersedes;
  std::vector<IndexPack> packs;
  bool old_format = false;  // parsed from a bare JSON array

  size_t blob_count() const;
  // Compact JSON with the trailing newline Go's encoder writes.
  std::string ToJson() const;
  // Corruption for anything that is not a well-formed index (unknown blob type, bad ids,
  // negative or out-of-range numbers, wrong JSON types).
  static Result<IndexFile> Parse(std::string_view json);
};

}  // namespace clawback::store
