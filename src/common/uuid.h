// UUIDs, and UUIDv7 generation per RFC 9562 section 5.7.
//
// A conversation id is a UUIDv7: 48 bits of Unix milliseconds, then a 12-bit counter in
// rand_a and 62 random bits in rand_b. Within one millisecond the counter increases
// (RFC 9562 section 6.2, method 1), so ids from one generator sort by creation order, both
// as bytes and as their lowercase text. The 16 bytes are also the conversation's W3C
// trace id.
//
// Thread-safety: Uuid is a value. UuidV7Generator is safe to call from many threads.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace clawback {

class Uuid {
 public:
  Uuid() { bytes_.fill(0); }
  explicit Uuid(const std::array<uint8_t, 16>& b) : bytes_(b) {}

  // Parses the canonical 8-4-4-4-12 form (either case) or 32 hex digits.
  static std::optional<Uuid> Parse(std::string_view text);

  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  bool is_nil() const;
  int version() const { return bytes_[6] >> 4; }
  // For a v7 id: its Unix milliseconds.
  int64_t UnixMillis() const;

  std::string ToString() const;  // lowercase canonical form
  std::string ToHex() const;     // 32 lowercase hex digits (the trace-id form)

  friend bool operator==(const Uuid& a, const Uuid& b) { return a.bytes_ == b.bytes_; }
  friend bool operator!=(const Uuid& a, const Uuid& b) { return a.bytes_ != b.bytes_; }
  friend bool operator<(const Uuid& a, const Uuid& b) { return a.bytes_ < b.bytes_; }

 private:
  std::array<uint8_t, 16> bytes_;
};

class UuidV7Generator {
 public:
  explicit UuidV7Generator(const Clock& clock = SystemClock());
  Uuid Next();

 private:
  const Clock& clock_;
  std::mutex mu_;
  int64_t last_ms_ = -1;     // GUARDED_BY(mu_)
  uint16_t counter_ = 0;     // GUARDED_BY(mu_), 12 bits
  std::array<uint8_t, 640> pool_{};  // GUARDED_BY(mu_): random bytes, 10 per id
  size_t pool_used_ = 640;           // GUARDED_BY(mu_)
  uint64_t pool_generation_ = 0;     // GUARDED_BY(mu_): the fork generation it was filled in
};

// A new v7 id from a process-wide generator on the system clock.
Uuid NewUuidV7();

// Fills `out` with cryptographically strong random bytes (OpenSSL RAND_bytes).
void RandomBytes(void* out, size_t n);
// The same bytes for many small requests (IVs, nonces; n <= 64): served from a per-thread
// buffer that RAND_bytes refills 1 KiB at a time (a call per IV was a fork check and a
// DRBG round per stored blob). Used bytes are wiped; a forked child refills before use.
void RandomBytesPooled(uint8_t* out, size_t n);

std::string HexEncode(const uint8_t* data, size_t n);
inline std::string HexEncode(std::string_view s) {
  return HexEncode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
// Decodes hex (either case); false on odd length or a non-hex digit.
bool HexDecode(std::string_view hex, std::string* out);

}  // namespace clawback
