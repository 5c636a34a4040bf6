// Content-defined chunking with restic's Rabin fingerprint (restic format spec §11), so that
// our data blobs are cut exactly where restic cuts them and both deduplicate together.
//
// Window 64 bytes, chunks 512 KiB .. 8 MiB, cut when the low 20 bits of the digest are 0.
// The first 512 KiB - 64 bytes of every chunk are skipped without hashing, which is what
// makes the chunker run at page-cache speed.
//
// Usage (streaming; feed any buffer sizes):
//   Chunker ch(config.chunker_polynomial);
//   while (have data) {
//     bool cut; size_t n = ch.Next(p, len, &cut);   // consumes up to and including a cut
//     append p[0..n) to the current chunk; p += n; len -= n;
//     if (cut) emit the current chunk;               // the chunker has reset itself
//   }
//   at EOF: the bytes since the last cut (if any) are the final chunk.
//
// Thread-safety: a Chunker is used by one thread; tables are shared and immutable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace clawback::store {

// GF(2) polynomial arithmetic on uint64 (bit i = coefficient of x^i).
int PolDegree(uint64_t p);  // -1 for 0
// Ben-Or irreducibility test.
bool PolIrreducible(uint64_t p);
// A random irreducible polynomial of degree 53, drawn as restic does.
uint64_t RandomPolynomial();

class Chunker {
 public:
  static constexpr size_t kWindowSize = 64;
  static constexpr size_t kMinSize = 512 * 1024;
  static constexpr size_t kMaxSize = 8 * 1024 * 1024;
  static constexpr uint64_t kSplitMask = (uint64_t{1} << 20) - 1;
  // Long ranges are hashed as kStreams interleaved streams over adjacent blocks of
  // kStreamBlock bytes (see Next()).
  static constexpr size_t kStreams = 4;
  static constexpr size_t kStreamBlock = 32 * 1024;

  // REQUIRES: pol irreducible of degree 53 (RepoConfig::Parse checks that).
  explicit Chunker(uint64_t pol);

  // Starts a new chunk (a new file).
  void Reset();

  // Consumes bytes of data[0..n) up to and including the next cut; returns how many.
  // *cut is true when a chunk ends after them (the chunker has then reset itself).
  size_t Next(const uint8_t* data, size_t n, bool* cut);
  size_t Next(std::string_view data, bool* cut) {
    return Next(reinterpret_cast<const uint8_t*>(data.data()), data.size(), cut);
  }

  // Bytes of the current (unfinished) chunk consumed so far.
  size_t pending() const { return count_; }
  // The digest at the most recent cut (for test vectors and debugging).
  uint64_t last_cut_digest() const { return last_cut_digest_; }

  struct Tables;

 private:
  const Tables* tables_;
  uint64_t digest_ = 0;
  size_t count_ = 0;
  size_t wpos_ = 0;
  uint8_t window_[kWindowSize];
  uint64_t last_cut_digest_ = 0;
};

// Chunk lengths of a whole buffer (tests, small files).
std::vector<size_t> ChunkLengths(uint64_t pol, std::string_view data);

}  // namespace clawback::store
