// Pack files (restic format spec §7):
//   pack = E_1 || ... || E_n || EH || LE32(len(EH))
//   E_i  = seal(payload_i), payload = plaintext or zstd(plaintext)
//   EH   = seal(header), header entries in file order:
//          type(1) || LE32(len(E_i)) [|| LE32(plaintext length) for types 2,3] || id(32)
// Types: 0 data, 1 tree, 2 compressed data, 3 compressed tree. A pack's id is sha256(pack).
//
// Thread-safety: PackWriter is used by one thread at a time; the functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/crypto/crypto.h"
#include "store/id.h"

namespace clawback::store {

enum class BlobType : uint8_t { kData = 0, kTree = 1 };

// "data" / "tree"
std::string_view BlobTypeName(BlobType t);

struct BlobHandle {
  Id id;
  BlobType type = BlobType::kData;
  friend bool operator==(const BlobHandle&, const BlobHandle&) = default;
};

// One blob as a pack header and an index describe it.
struct PackedBlob {
  Id id;
  BlobType type = BlobType::kData;
  uint32_t offset = 0;               // inside the pack
  uint32_t length = 0;               // stored bytes, including the 32 bytes of crypto overhead
  uint32_t uncompressed_length = 0;  // plaintext length if compressed, 0 if stored raw

  bool compressed() const { return uncompressed_length != 0; }
  // The blob's plaintext size (spec §12.4).
  uint32_t PlaintextSize() const { return compressed() ? uncompressed_length : length - 32; }
  friend bool operator==(const PackedBlob&, const PackedBlob&) = default;
};

// Limits from the spec: the encrypted header is at most 16 MiB; packs stay below 4 GiB.
inline constexpr size_t kMaxPackHeaderSize = 16 * 1024 * 1024;
inline constexpr size_t kPackHeaderEntrySize = 37;
// DecodeBlob refuses compressed blobs claiming more plaintext than this (1 GiB).
inline constexpr uint32_t kMaxBlobPlaintextSize = uint32_t{1} << 30;
inline constexpr size_t kPackHeaderCompressedEntrySize = 41;

// How a blob's plaintext is stored.
enum class BlobCompression : uint8_t {
  kNone,    // raw (type 0/1)
  kAlways,  // zstd (type 2/3), even when that makes it larger (trees: spec §12.1)
  kAuto,    // zstd unless the blob looks incompressible (LooksIncompressible) or zstd
            // does not shrink it; then raw. For data blobs: a valid v2 choice (spec §12.1).
};

// Room SealBlobInto may need for `n` plaintext bytes.
size_t SealedBlobBound(size_t n);

// Prepares a blob for a pack: zstd (as `mode` says; never for an empty plaintext), then
// seal. Writes the stored bytes to out[0, returned size) and the uncompressed_length to
// record (0 when stored raw) to *uncompressed_length.
// REQUIRES: out has room for SealedBlobBound(plaintext.size()) bytes.
size_t SealBlobInto(const Key& key, std::string_view plaintext, BlobCompression mode, int level, char* out,
                    uint32_t* uncompressed_length);

// The same, appended to *out; returns the uncompressed_length (0 when stored raw).
uint32_t SealBlobAppend(const Key& key, std::string_view plaintext, bool compress, int level, std::string* out);

// Opens a stored blob, decompresses it if needed, checks its length and that its SHA-256
// is the expected id. Corruption on any mismatch.
Status DecodeBlob(const Key& key, const PackedBlob& blob, std::string_view stored, std::string* plaintext);

// Builds a pack: either accumulates the sealed blobs in memory (Add, then Finish), or only
// keeps the header entries of blobs written elsewhere in the same order (AddEntry, then
// FinishHeader: the repository streams packs to the backend).
class PackWriter {
 public:
  // Appends an already sealed blob (from SealBlobAppend).
  void Add(BlobType type, const Id& id, std::string_view stored, uint32_t uncompressed_length);
  // Records a sealed blob of `stored_size` bytes that the caller appends to the pack
  // itself, right after the previous one.
  void AddEntry(BlobType type, const Id& id, size_t stored_size, uint32_t uncompressed_length);

  // Pre-allocates room for `bytes` of blob data (avoids regrowing a 16 MiB buffer).
  void Reserve(size_t bytes) { data_.reserve(bytes); }

  size_t size() const { return size_; }
  size_t count() const { return blobs_.size(); }
  bool empty() const { return blobs_.empty(); }
  // Bytes the finished pack will have (data + sealed header + 4).
  size_t FinishedSize() const;
  const std::vector<PackedBlob>& blobs() const { return blobs_; }

  struct Finished {
    Id id;
    std::string bytes;
    std::vector<PackedBlob> blobs;
  };
  // Appends the sealed header and its length; the writer is empty afterwards.
  // `header_iv` only for test vectors. REQUIRES: !empty().
  Finished Finish(const Key& key, const uint8_t* header_iv = nullptr);
  // For AddEntry packs: the pack's last bytes (sealed header and its length); the entries
  // move to *blobs and the writer is empty afterwards. REQUIRES: !empty().
  std::string FinishHeader(const Key& key, std::vector<PackedBlob>* blobs, const uint8_t* header_iv = nullptr);

 private:
  std::string data_;  // Add only
  size_t size_ = 0;   // bytes of blob data so far
  std::vector<PackedBlob> blobs_;
  size_t header_size_ = 0;
};

// The plaintext header for `blobs` (in file order), and its inverse. DecodePackHeader
// computes offsets from the lengths; Corruption on an unknown type or a truncated entry.
std::string EncodePackHeader(const std::vector<PackedBlob>& blobs);
Result<std::vector<PackedBlob>> DecodePackHeader(std::string_view header);

// Parses a pack from its last bytes: `tail` must be the final `tail.size()` bytes of a pack
// of `pack_size` bytes. When the header does not fit in `tail`, returns OutOfRange-like
// FailedPrecondition with the number of bytes needed in *need (callers re-read that much).
// Checks the header MAC, the entry encoding and sum(lengths) + len(EH) + 4 == pack_size.
Result<std::vector<PackedBlob>> ParsePackTail(const Key& key, std::string_view tail, uint64_t pack_size,
                                              size_t* need = nullptr);
// The same for a whole pack in memory.
Result<std::vector<PackedBlob>> ParsePack(const Key& key, std::string_view pack);

}  // namespace clawback::store
