#include "common/uuid.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace clawback {
namespace {

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<Uuid> Uuid::Parse(std::string_view text) {
  std::array<uint8_t, 16> b{};
  std::string hex;
  if (text.size() == 36) {
    if (text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-') return std::nullopt;
    for (size_t i = 0; i < text.size(); ++i)
      if (i != 8 && i != 13 && i != 18 && i != 23) hex.push_back(text[i]);
  } else if (text.size() == 32) {
    hex = std::string(text);
  } else {
    return std::nullopt;
  }
  for (int i = 0; i < 16; ++i) {
    int hi = HexVal(hex[2 * i]), lo = HexVal(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    b[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return Uuid(b);
}

bool Uuid::is_nil() const {
  for (uint8_t x : bytes_)
    if (x) return false;
  return true;
}

int64_t Uuid::UnixMillis() const {
  int64_t ms = 0;
  for (int i = 0; i < 6; ++i) ms = ms << 8 | bytes_[i];
  return ms;
}

std::string Uuid::ToHex() const { return HexEncode(bytes_.data(), bytes_.size()); }

std::string Uuid::ToString() const {
  static const char kDigits[] = "0123456789abcdef";
  std::string s(36, '-');
  size_t o = 0;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++o;  // the dashes
    s[o++] = kDigits[bytes_[i] >> 4];
    s[o++] = kDigits[bytes_[i] & 0xF];
  }
  return s;
}

namespace {
// Bumped in the child of every fork, so a generator never hands a child the random bytes
// its parent also holds.
std::atomic<uint64_t> g_fork_generation{0};
void CountFork() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }
void CountForks() {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(nullptr, nullptr, CountFork); });
}
}  // namespace

UuidV7Generator::UuidV7Generator(const Clock& clock) : clock_(clock) { CountForks(); }

Uuid UuidV7Generator::Next() {
  std::array<uint8_t, 16> b;
  int64_t ms = clock_.NowUnixMillis();
  uint16_t counter;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The id's random bits (bytes 6-15) come from a pool the CSPRNG fills in one call per 64
    // ids: a RAND_bytes call per id cost more than the rest of mapping an ingested event.
    uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
    if (pool_used_ + 10 > pool_.size() || generation != pool_generation_) {
      RandomBytes(pool_.data(), pool_.size());
      pool_used_ = 0;
      pool_generation_ = generation;
    }
    std::memcpy(b.data() + 6, pool_.data() + pool_used_, 10);
    std::memset(pool_.data() + pool_used_, 0, 10);  // used bytes do not linger
    pool_used_ += 10;
    if (ms <= last_ms_) {
      // Same (or earlier: the wall clock stepped back) millisecond: keep the last timestamp
      // and bump the counter so ids stay sorted. On counter overflow borrow the next ms.
      ms = last_ms_;
      if (++counter_ > 0x0FFF) {
        ++ms;
        counter_ = b[7] & 0x3F;  // reseed low, leaving headroom
      }
    } else {
      // A fresh millisecond: a random counter start with headroom below 0x800.
      counter_ = static_cast<uint16_t>(((b[6] << 8) | b[7]) & 0x07FF);
    }
    last_ms_ = ms;
    counter = counter_;
  }
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
  b[6] = static_cast<uint8_t>(0x70 | ((counter >> 8) & 0x0F));
  b[7] = static_cast<uint8_t>(counter & 0xFF);
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3F));  // variant 10
  return Uuid(b);
}

Uuid NewUuidV7() {
  static UuidV7Generator gen;
  return gen.Next();
}

void RandomBytes(void* out, size_t n) {
  if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(n)) != 1) {
    std::fprintf(stderr, "fatal: RAND_bytes failed\n");
    std::abort();
  }
}

void RandomBytesPooled(uint8_t* out, size_t n) {
  struct Pool {
    std::array<uint8_t, 1024> bytes{};
    size_t used = 1024;
    uint64_t generation = 0;
    Pool() { CountForks(); }
    ~Pool() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
  };
  thread_local Pool pool;
  if (n > 64) {
    RandomBytes(out, n);
    return;
  }
  const uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
  if (pool.used + n > pool.bytes.size() || generation != pool.generation) {
    RandomBytes(pool.bytes.data(), pool.bytes.size());
    pool.used = 0;
    pool.generation = generation;
  }
  std::memcpy(out, pool.bytes.data() + pool.used, n);
  OPENSSL_cleanse(pool.bytes.data() + pool.used, n);
  pool.used += n;
}

std::string HexEncode(const uint8_t* data, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kDigits[data[i] >> 4];
    s[2 * i + 1] = kDigits[data[i] & 0xF];
  }
  return s;
}

bool HexDecode(std::string_view hex, std::string* out) {
  if (hex.size() % 2) return false;
  out->resize(hex.size() / 2);
  for (size_t i = 0; i < out->size(); ++i) {
    int hi = HexVal(hex[2 * i]), lo = HexVal(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<char>(hi << 4 | lo);
  }
  return true;
}

}  // namespace clawback
