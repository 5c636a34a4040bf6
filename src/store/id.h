// Id: a 32-byte SHA-256 identifier of a repository object (docs/format/restic-compat.md,
// restic format spec §2).
//
// Blob ids hash the blob's uncompressed plaintext; pack, index, snapshot and lock ids hash
// the file exactly as stored; key ids hash the key file's JSON. The text form is 64
// lowercase hex digits; the all-zero id is "null" and never valid where an id is required.
//
// Thread-safety: values. Sha256 objects are not shared between threads.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace clawback::store {

class Id {
 public:
  static constexpr size_t kSize = 32;

  Id() { bytes_.fill(0); }  // the null id
  static Id FromBytes(const void* data) {
    Id id;
    std::memcpy(id.bytes_.data(), data, kSize);
    return id;
  }
  // Parses 64 hex digits (either case). Anything else is InvalidArgument.
  static Result<Id> Parse(std::string_view hex);
  // SHA-256 of `data`.
  static Id Hash(std::string_view data);
  // *a = Hash(data_a), *b = Hash(data_b), computed together (faster than two calls; see
  // crypto/sha256_pair.h).
  static void HashPair(std::string_view data_a, std::string_view data_b, Id* a, Id* b);

  std::string Hex() const;
  // The first 8 hex digits, for messages.
  std::string ShortHex() const { return Hex().substr(0, 8); }
  bool IsNull() const;

  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* mutable_data() { return bytes_.data(); }
  // The first 8 bytes as a little-endian integer: uniformly distributed, used for hashing.
  uint64_t Prefix64() const {
    uint64_t v;
    std::memcpy(&v, bytes_.data(), sizeof v);
    return v;
  }

  friend bool operator==(const Id& a, const Id& b) { return a.bytes_ == b.bytes_; }
  friend auto operator<=>(const Id& a, const Id& b) { return a.bytes_ <=> b.bytes_; }

 private:
  std::array<uint8_t, kSize> bytes_;
};

struct IdHash {
  size_t operator()(const Id& id) const { return static_cast<size_t>(id.Prefix64()); }
};

// Whether `prefix` (hex, any case) is a prefix of the id's hex form.
bool IdHasPrefix(const Id& id, std::string_view prefix);

// The one id among `ids` whose hex form begins with `prefix`. NotFound when none does,
// InvalidArgument when several do ("prefix 1a is ambiguous: 3 matches") or the prefix is
// not hex.
Result<Id> FindUniqueByPrefix(const std::vector<Id>& ids, std::string_view prefix);

// Incremental SHA-256 (OpenSSL, SHA-NI when the CPU has it).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  // Finishes the digest; the object may be reused afterwards (it is reset).
  Id Final();

 private:
  void* ctx_;  // EVP_MD_CTX
};

// Lowercase hex of arbitrary bytes, and its inverse (InvalidArgument on bad input).
std::string ToHex(std::string_view bytes);
Result<std::string> FromHex(std::string_view hex);

}  // namespace clawback::store
