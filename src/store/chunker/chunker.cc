#include "store/chunker/chunker.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "common/status.h"
#include "store/crypto/crypto.h"

namespace clawback::store {
namespace {

uint64_t PolMod(uint64_t x, uint64_t d) {
  int dd = PolDegree(d);
  while (x != 0) {
    int dx = PolDegree(x);
    if (dx < dd) break;
    x ^= d << (dx - dd);
  }
  return x;
}

uint64_t PolMulMod(uint64_t a, uint64_t b, uint64_t m) {
  int dm = PolDegree(m);
  uint64_t res = 0;
  a = PolMod(a, m);
  while (b != 0) {
    if (b & 1) res ^= a;
    b >>= 1;
    a <<= 1;
    if ((a >> dm) & 1) a ^= m;
  }
  return PolMod(res, m);
}

uint64_t PolGcd(uint64_t a, uint64_t b) {
  while (b != 0) {
    uint64_t t = PolMod(a, b);
    a = b;
    b = t;
  }
  return a;
}

}  // namespace

struct Chunker::Tables {
  uint64_t out[256];
  uint64_t mod[256];
  int shift;
};

int PolDegree(uint64_t p) { return p == 0 ? -1 : 63 - __builtin_clzll(p); }

bool PolIrreducible(uint64_t f) {
  int d = PolDegree(f);
  if (d < 1) return false;
  uint64_t x2i = 2;  // the polynomial x
  for (int i = 1; i <= d / 2; ++i) {
    x2i = PolMulMod(x2i, x2i, f);
    if (PolGcd(f, x2i ^ 2) != 1) return false;
  }
  return true;
}

uint64_t RandomPolynomial() {
  for (int i = 0; i < 1000000; ++i) {
    uint8_t raw[8];
    RandomBytes(raw, sizeof raw);
    uint64_t f = 0;
    for (int k = 7; k >= 0; --k) f = f << 8 | raw[k];
    f &= (uint64_t{1} << 54) - 1;
    f |= (uint64_t{1} << 53) | 1;
    if (PolIrreducible(f)) return f;
  }
  CLAWBACK_CHECK(false && "no irreducible polynomial found");
  return 0;
}

namespace {

const Chunker::Tables* TablesFor(uint64_t pol) {
  static std::mutex mu;
  static std::map<uint64_t, std::unique_ptr<Chunker::Tables>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[pol];
  if (!slot) {
    auto t = std::make_unique<Chunker::Tables>();
    int k = PolDegree(pol);
    CLAWBACK_CHECK(k >= 8 && k <= 53);
    t->shift = k - 8;
    for (uint64_t b = 0; b < 256; ++b) {
      uint64_t h = PolMod(b, pol);
      for (size_t i = 0; i < Chunker::kWindowSize - 1; ++i) h = PolMod(h << 8, pol);
      t->out[b] = h;
      t->mod[b] = PolMod(b << k, pol) | (b << k);
    }
    slot = std::move(t);
  }
  return slot.get();
}

}  // namespace

Chunker::Chunker(uint64_t pol) : tables_(TablesFor(pol)) { Reset(); }

void Chunker::Reset() {
  std::memset(window_, 0, sizeof window_);
  // restic slides one byte of value 1 into a fresh window.
  window_[0] = 1;
  wpos_ = 1;
  digest_ = 1;
  count_ = 0;
}

size_t Chunker::Next(const uint8_t* data, size_t n, bool* cut) {
  *cut = false;
  size_t i = 0;
  constexpr size_t kSkip = kMinSize - kWindowSize;
  if (count_ < kSkip) {
    size_t skip = std::min(n, kSkip - count_);
    count_ += skip;
    i = skip;
    if (i == n) return n;
  }
  const uint64_t* out = tables_->out;
  const uint64_t* mod = tables_->mod;
  const int shift = tables_->shift;
  uint64_t digest = digest_;
  const size_t start = i;
  // Bytes this call may consume before the maximum chunk size forces a cut.
  const size_t limit = std::min(n, i + (kMaxSize - count_));

  // Slow path: the first window's worth of bytes in this call take their outgoing byte from
  // the saved window.
  size_t slow_end = std::min(limit, start + kWindowSize);
  for (; i < slow_end; ++i) {
    uint8_t b = data[i];
    uint8_t old = window_[wpos_];
    window_[wpos_] = b;
    wpos_ = (wpos_ + 1) % kWindowSize;
    digest ^= out[old];
    digest = ((digest << 8) | b) ^ mod[digest >> shift];
    size_t count = count_ + (i + 1 - start);
    if ((digest & kSplitMask) == 0 && count >= kMinSize) {
      count_ = count;
      goto cut_here;
    }
  }
  // Fast path: the outgoing byte is simply data[i - 64]; count >= kMinSize here.
  //
  // The digest after byte j depends only on the 64 bytes ending at j (the byte slid in at
  // Reset has left the window by now), so it can be computed from any earlier point. Each
  // byte's update waits for the previous one's table lookup; hashing the range in rounds of
  // two adjacent blocks, the second block's stream warmed up over the 64 bytes before it,
  // keeps two such chains in flight. The first block's cut, if any, comes first; otherwise
  // the second's; otherwise the second stream's digest carries into the next round.
  while (limit - i >= 2 * kStreamBlock) {
    const size_t mid = i + kStreamBlock;
    uint64_t d2 = 0;  // F(64 zero bytes) = 0; outgoing zeros contribute out[0] = 0
    for (size_t j = mid - kWindowSize; j < mid; ++j) d2 = ((d2 << 8) | data[j]) ^ mod[d2 >> shift];
    size_t j = mid;
    size_t cut2 = 0;  // 0: none yet (a cut is never at index 0 here)
    uint64_t cut2_digest = 0;
    for (; i < mid; ++i, ++j) {
      digest ^= out[data[i - kWindowSize]];
      digest = ((digest << 8) | data[i]) ^ mod[digest >> shift];
      if ((digest & kSplitMask) == 0) [[unlikely]] {
        count_ += i + 1 - start;
        goto cut_here;
      }
      d2 ^= out[data[j - kWindowSize]];
      d2 = ((d2 << 8) | data[j]) ^ mod[d2 >> shift];
      if ((d2 & kSplitMask) == 0 && cut2 == 0) [[unlikely]] {
        cut2 = j;
        cut2_digest = d2;
      }
    }
    if (cut2 != 0) {
      i = cut2;
      digest = cut2_digest;
      count_ += i + 1 - start;
      goto cut_here;
    }
    i = j;
    digest = d2;
  }
  for (; i < limit; ++i) {
    uint8_t b = data[i];
    digest ^= out[data[i - kWindowSize]];
    digest = ((digest << 8) | b) ^ mod[digest >> shift];
    if ((digest & kSplitMask) == 0) {
      count_ += i + 1 - start;
      goto cut_here;
    }
  }
  count_ += i - start;
  if (count_ >= kMaxSize) {
    goto cut_at_max;
  }
  // End of buffer without a cut: remember the window for the next call.
  if (i - start >= kWindowSize) {
    std::memcpy(window_, data + i - kWindowSize, kWindowSize);
    wpos_ = 0;
  }
  digest_ = digest;
  return i;

cut_here:
  ++i;
cut_at_max:
  last_cut_digest_ = digest;
  *cut = true;
  Reset();
  return i;
}

std::vector<size_t> ChunkLengths(uint64_t pol, std::string_view data) {
  Chunker ch(pol);
  std::vector<size_t> lengths;
  size_t current = 0;
  while (!data.empty()) {
    bool cut = false;
    size_t n = ch.Next(data, &cut);
    current += n;
    data.remove_prefix(n);
    if (cut) {
      lengths.push_back(current);
      current = 0;
    }
  }
  if (current > 0) lengths.push_back(current);
  return lengths;
}

}  // namespace clawback::store
