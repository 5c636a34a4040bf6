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
  // out2[b] = (out[b] << 8) ^ mod[out[b] >> shift]: removing byte b and the next update's
  // reduction of its bits in one term. Reduction is linear over GF(2) (mod[x ^ y] =
  // mod[x] ^ mod[y]), so `d ^= out[b]; d = ((d << 8) | in) ^ mod[d >> shift]` equals
  // `d = ((d << 8) | in) ^ mod[d >> shift] ^ out2[b]`, whose out2 lookup is off the chain
  // from one byte's digest to the next (one xor shorter).
  uint64_t out2[256];
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
    for (uint64_t b = 0; b < 256; ++b) t->out2[b] = (t->out[b] << 8) ^ t->mod[t->out[b] >> t->shift];
    slot = std::move(t);
  }
  return slot.get();
}

// The digest after the 64 bytes before `block`, hashed from an all-zero window.
uint64_t WarmUp(const uint8_t* block, const uint64_t* mod, int shift) {
  uint64_t w = 0;  // F(64 zero bytes) = 0; outgoing zeros contribute out[0] = 0
  for (const uint8_t* q = block - Chunker::kWindowSize; q < block; ++q) w = ((w << 8) | *q) ^ mod[w >> shift];
  return w;
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
  const uint64_t* out2 = tables_->out2;
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
  // kStreams adjacent blocks, each later block's stream warmed up over the 64 bytes before
  // it, keeps kStreams such chains in flight. The first block with a cut gives the cut;
  // without one, the last stream's digest carries into the next round.
  static_assert(kStreams == 4, "the loop below is written out for four streams");
  while (limit - i >= kStreams * kStreamBlock) {
    // Stream s hashes in[s][0, kStreamBlock); its outgoing bytes are gone[s][k].
    const uint8_t* in0 = data + i;
    const uint8_t* in1 = in0 + kStreamBlock;
    const uint8_t* in2 = in1 + kStreamBlock;
    const uint8_t* in3 = in2 + kStreamBlock;
    const uint8_t *gone0 = in0 - kWindowSize, *gone1 = in1 - kWindowSize;
    const uint8_t *gone2 = in2 - kWindowSize, *gone3 = in3 - kWindowSize;
    uint64_t d0 = digest, d1 = WarmUp(in1, mod, shift), d2 = WarmUp(in2, mod, shift),
             d3 = WarmUp(in3, mod, shift);
    size_t cut_at[kStreams] = {};  // offset + 1 of each block's first cut, 0: none
    uint64_t cut_digest[kStreams] = {};
    for (size_t k = 0; k < kStreamBlock; ++k) {
      d0 = ((d0 << 8) | in0[k]) ^ mod[d0 >> shift] ^ out2[gone0[k]];
      d1 = ((d1 << 8) | in1[k]) ^ mod[d1 >> shift] ^ out2[gone1[k]];
      d2 = ((d2 << 8) | in2[k]) ^ mod[d2 >> shift] ^ out2[gone2[k]];
      d3 = ((d3 << 8) | in3[k]) ^ mod[d3 >> shift] ^ out2[gone3[k]];
      if (((d0 & kSplitMask) == 0) | ((d1 & kSplitMask) == 0) | ((d2 & kSplitMask) == 0) |
          ((d3 & kSplitMask) == 0)) [[unlikely]] {
        const uint64_t now[kStreams] = {d0, d1, d2, d3};
        for (size_t s = 0; s < kStreams; ++s) {
          if ((now[s] & kSplitMask) == 0 && cut_at[s] == 0) {
            cut_at[s] = k + 1;
            cut_digest[s] = now[s];
          }
        }
        if (cut_at[0] != 0) break;  // nothing can come before it
      }
    }
    size_t s = 0;
    while (s < kStreams && cut_at[s] == 0) ++s;
    if (s < kStreams) {
      i += s * kStreamBlock + cut_at[s] - 1;
      digest = cut_digest[s];
      count_ += i + 1 - start;
      goto cut_here;
    }
    i += kStreams * kStreamBlock;
    digest = d3;
  }
  for (; i < limit; ++i) {
    digest = ((digest << 8) | data[i]) ^ mod[digest >> shift] ^ out2[data[i - kWindowSize]];
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
