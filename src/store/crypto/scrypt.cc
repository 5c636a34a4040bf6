#include "store/crypto/scrypt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace clawback::store {
namespace {

constexpr int kMaxThreads = 4;

// A 64-byte Salsa20 block's words in diagonal order: rows a, b, c, d of the vector form.
// In this order the column round works on (a, b, c, d) = (x0 x5 x10 x15, x4 x9 x14 x3,
// x8 x13 x2 x7, x12 x1 x6 x11) lane by lane, and the row round on the same vectors rotated.
constexpr int kDiagonal[16] = {0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11};

inline uint32_t LoadLe32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
inline void StoreLe32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}

#if defined(__SSE2__)

struct alignas(16) Block {
  __m128i v[4];
};

template <int k>
inline __m128i Rotl(__m128i x) {
  return _mm_or_si128(_mm_slli_epi32(x, k), _mm_srli_epi32(x, 32 - k));
}

// One quarter-round step on all four lanes: b ^= (a+d)<<<7, c ^= (b+a)<<<9,
// d ^= (c+b)<<<13, a ^= (d+c)<<<18.
inline void Quarter(__m128i& a, __m128i& b, __m128i& c, __m128i& d) {
  b = _mm_xor_si128(b, Rotl<7>(_mm_add_epi32(a, d)));
  c = _mm_xor_si128(c, Rotl<9>(_mm_add_epi32(b, a)));
  d = _mm_xor_si128(d, Rotl<13>(_mm_add_epi32(c, b)));
  a = _mm_xor_si128(a, Rotl<18>(_mm_add_epi32(d, c)));
}

// x = Salsa20/8(x ^ in): the block function applied to the XOR of the running block and the
// next input block, as BlockMix needs it.
inline void Salsa8Xor(Block* x, const Block& in) {
  __m128i a0 = _mm_xor_si128(x->v[0], in.v[0]);
  __m128i b0 = _mm_xor_si128(x->v[1], in.v[1]);
  __m128i c0 = _mm_xor_si128(x->v[2], in.v[2]);
  __m128i d0 = _mm_xor_si128(x->v[3], in.v[3]);
  __m128i a = a0, b = b0, c = c0, d = d0;
  for (int i = 0; i < 4; ++i) {
    Quarter(a, b, c, d);  // column round
    // To row order: (b, c, d) become (d>>>1 lane, c>>>2, b>>>3).
    __m128i rb = _mm_shuffle_epi32(d, 0x39);
    __m128i rc = _mm_shuffle_epi32(c, 0x4E);
    __m128i rd = _mm_shuffle_epi32(b, 0x93);
    Quarter(a, rb, rc, rd);  // row round
    b = _mm_shuffle_epi32(rd, 0x39);
    c = _mm_shuffle_epi32(rc, 0x4E);
    d = _mm_shuffle_epi32(rb, 0x93);
  }
  x->v[0] = _mm_add_epi32(a, a0);
  x->v[1] = _mm_add_epi32(b, b0);
  x->v[2] = _mm_add_epi32(c, c0);
  x->v[3] = _mm_add_epi32(d, d0);
}

inline void XorBlock(Block* x, const Block& y) {
  for (int i = 0; i < 4; ++i) x->v[i] = _mm_xor_si128(x->v[i], y.v[i]);
}

inline uint32_t FirstWord(const Block& b) { return static_cast<uint32_t>(_mm_cvtsi128_si32(b.v[0])); }

#else  // portable fallback

struct alignas(16) Block {
  uint32_t w[16];
};

inline uint32_t R(uint32_t v, int k) { return (v << k) | (v >> (32 - k)); }

inline void Quarter(uint32_t* a, uint32_t* b, uint32_t* c, uint32_t* d) {
  for (int l = 0; l < 4; ++l) {
    b[l] ^= R(a[l] + d[l], 7);
    c[l] ^= R(b[l] + a[l], 9);
    d[l] ^= R(c[l] + b[l], 13);
    a[l] ^= R(d[l] + c[l], 18);
  }
}

inline void RotateLanes(const uint32_t* in, uint32_t* out, int by) {
  for (int l = 0; l < 4; ++l) out[l] = in[(l + by) & 3];
}

inline void Salsa8Xor(Block* x, const Block& in) {
  uint32_t s[16], t[16];
  for (int i = 0; i < 16; ++i) s[i] = t[i] = x->w[i] ^ in.w[i];
  uint32_t *a = t, *b = t + 4, *c = t + 8, *d = t + 12;
  for (int i = 0; i < 4; ++i) {
    Quarter(a, b, c, d);
    uint32_t rb[4], rc[4], rd[4];
    RotateLanes(d, rb, 1);
    RotateLanes(c, rc, 2);
    RotateLanes(b, rd, 3);
    Quarter(a, rb, rc, rd);
    RotateLanes(rd, b, 1);
    RotateLanes(rc, c, 2);
    RotateLanes(rb, d, 3);
  }
  for (int i = 0; i < 16; ++i) x->w[i] = t[i] + s[i];
}

inline void XorBlock(Block* x, const Block& y) {
  for (int i = 0; i < 16; ++i) x->w[i] ^= y.w[i];
}

inline uint32_t FirstWord(const Block& b) { return b.w[0]; }

#endif

static_assert(sizeof(Block) == 64);

// out = BlockMix(in) for 2r blocks: X = in[2r-1]; X = Salsa(X ^ in[i]); even outputs go to
// the first half, odd ones to the second.
inline void BlockMix(const Block* in, Block* out, uint32_t r) {
  Block x = in[2 * r - 1];
  for (uint32_t i = 0; i < 2 * r; i += 2) {
    Salsa8Xor(&x, in[i]);
    out[i / 2] = x;
    Salsa8Xor(&x, in[i + 1]);
    out[r + i / 2] = x;
  }
}

// out = BlockMix(in ^ v), without materialising in ^ v.
inline void BlockMixXor(const Block* in, const Block* v, Block* out, uint32_t r) {
  Block x = in[2 * r - 1];
  XorBlock(&x, v[2 * r - 1]);
  for (uint32_t i = 0; i < 2 * r; i += 2) {
    Block t = in[i];
    XorBlock(&t, v[i]);
    Salsa8Xor(&x, t);
    out[i / 2] = x;
    t = in[i + 1];
    XorBlock(&t, v[i + 1]);
    Salsa8Xor(&x, t);
    out[r + i / 2] = x;
  }
}

// Anonymous memory for one lane's table, returned to the system when freed (a malloc'ed
// 32 MiB block could stay in glibc's heap). Transparent huge pages, when the kernel
// offers them on request, spare the TLB misses of ROMix's random reads.
class LaneMemory {
 public:
  explicit LaneMemory(size_t bytes) {
    constexpr size_t kHuge = size_t{2} << 20;
    size_ = bytes + kHuge;
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    base_ = p;
    uintptr_t aligned = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
#ifdef MADV_HUGEPAGE
    madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);
#endif
    data_ = reinterpret_cast<Block*>(aligned);
  }
  ~LaneMemory() {
    if (base_ != nullptr) munmap(base_, size_);
  }
  LaneMemory(const LaneMemory&) = delete;
  LaneMemory& operator=(const LaneMemory&) = delete;
  Block* data() const { return data_; }

 private:
  void* base_ = nullptr;
  size_t size_ = 0;
  Block* data_ = nullptr;
};

// ROMix on one lane of 128·r bytes (little-endian words), in place. The table keeps every
// `stride`-th of the N intermediate states (N/stride · 2r blocks in `v`); a lookup of a
// state that was not kept recomputes it from the kept one before it (stride 2: half the
// memory for 1.25 times the work). `scratch` holds 8r blocks.
void RoMix(uint8_t* lane, uint32_t r, uint64_t n, uint32_t stride, Block* v, Block* scratch) {
  const size_t blocks = 2 * size_t{r};
  Block* x = scratch;
  Block* y = scratch + blocks;
  Block* z = scratch + 2 * blocks;
  Block* u = scratch + 3 * blocks;
  for (size_t b = 0; b < blocks; ++b) {
    alignas(16) uint32_t w[16];
    for (int k = 0; k < 16; ++k) w[k] = LoadLe32(lane + b * 64 + 4 * static_cast<size_t>(kDiagonal[k]));
    std::memcpy(&x[b], w, 64);
  }
  for (uint64_t i = 0; i < n; ++i) {
    if (i % stride == 0) std::memcpy(v + (i / stride) * blocks, x, blocks * sizeof(Block));
    BlockMix(x, y, r);
    std::swap(x, y);
  }
  const uint64_t mask = n - 1;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t j = FirstWord(x[blocks - 1]) & mask;  // Integerify; N <= 2^31 here
    const Block* vj = v + (j / stride) * blocks;
    for (uint64_t k = 0; k < j % stride; ++k) {  // rebuild a state the table skipped
      Block* dst = (k % 2 == 0) ? z : u;
      BlockMix(vj, dst, r);
      vj = dst;
    }
    BlockMixXor(x, vj, y, r);
    std::swap(x, y);
  }
  for (size_t b = 0; b < blocks; ++b) {
    alignas(16) uint32_t w[16];
    std::memcpy(w, &x[b], 64);
    for (int k = 0; k < 16; ++k) StoreLe32(lane + b * 64 + 4 * static_cast<size_t>(kDiagonal[k]), w[k]);
  }
}

}  // namespace

Status ScryptDerive(std::string_view password, std::string_view salt, uint64_t n, uint32_t r, uint32_t p,
                    uint8_t* out, size_t out_len, const ScryptOptions& options) {
  const size_t lane_bytes = size_t{128} * r;
  std::vector<uint8_t> b(lane_bytes * p);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), 1,
                        EVP_sha256(), static_cast<int>(b.size()), b.data()) != 1) {
    return Internal("scrypt: PBKDF2 failed");
  }

  int threads = options.threads;
  if (threads <= 0) {
    threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::min(threads, kMaxThreads);
  }
  threads = static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(threads), p));

  std::atomic<uint32_t> next{0};
  std::atomic<bool> failed{false};
  // The first thread keeps the whole table; helpers keep half of it (stride 2), so two
  // threads need 1.5 tables instead of 2 (the derivation's memory is its peak RSS in a
  // short command) while still finishing in about half the time.
  auto work = [&](uint32_t stride) {
    const uint64_t kept = (n + stride - 1) / stride;
    LaneMemory mem(lane_bytes * (kept + 4));
    if (mem.data() == nullptr) {
      failed = true;
      return;
    }
    Block* v = mem.data();
    Block* scratch = v + kept * 2 * r;
    for (;;) {
      uint32_t lane = next.fetch_add(1);
      if (lane >= p || failed) return;
      RoMix(b.data() + lane * lane_bytes, r, n, stride, v, scratch);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, options.helper_stride);
  work(1);
  for (auto& t : pool) t.join();
  if (failed) {
    OPENSSL_cleanse(b.data(), b.size());
    return Internal("scrypt: cannot map " + std::to_string(lane_bytes * n >> 20) + " MiB for the key derivation");
  }

  int ok = PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), b.data(),
                             static_cast<int>(b.size()), 1, EVP_sha256(), static_cast<int>(out_len), out);
  OPENSSL_cleanse(b.data(), b.size());
  if (ok != 1) return Internal("scrypt: PBKDF2 failed");
  return Status::Ok();
}

}  // namespace clawback::store
