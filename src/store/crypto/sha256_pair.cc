#include "store/crypto/sha256_pair.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include "common/status.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CLAWBACK_SHA_NI 1
#include <immintrin.h>
#endif

namespace clawback::store {
namespace {

void OpenSslSha256(std::string_view data, uint8_t* out) {
  unsigned int len = 0;
  CLAWBACK_CHECK(EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr) == 1);
}

#if CLAWBACK_SHA_NI

#define CLAWBACK_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

// FIPS 180-4 §4.2.2: the 64 round constants.
alignas(16) constexpr uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
// FIPS 180-4 §5.3.3: the initial hash value H0..H7.
constexpr uint32_t kInitialHash[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

// The eight state words as the SHA instructions hold them: (A, B, E, F) and (C, D, G, H).
struct State {
  __m128i abef;
  __m128i cdgh;
};

CLAWBACK_SHA_TARGET State InitialState() {
  __m128i abcd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kInitialHash));
  __m128i efgh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kInitialHash + 4));
  __m128i badc = _mm_shuffle_epi32(abcd, 0xB1);
  __m128i hgfe = _mm_shuffle_epi32(efgh, 0x1B);
  return State{_mm_alignr_epi8(badc, hgfe, 8), _mm_blend_epi16(hgfe, badc, 0xF0)};
}

// Runs the compression function over `blocks` 64-byte blocks of each of kWays messages
// (data[w] points at message w's next block). The ways are independent; written as one
// loop, the compiler interleaves their instructions.
template <int kWays>
CLAWBACK_SHA_TARGET void Compress(State* state, const uint8_t* const* data, size_t blocks) {
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i abef[kWays], cdgh[kWays];
  for (int w = 0; w < kWays; ++w) {
    abef[w] = state[w].abef;
    cdgh[w] = state[w].cdgh;
  }
  for (size_t b = 0; b < blocks; ++b) {
    __m128i saved_abef[kWays], saved_cdgh[kWays], schedule[kWays][4];
    for (int w = 0; w < kWays; ++w) {
      saved_abef[w] = abef[w];
      saved_cdgh[w] = cdgh[w];
      const uint8_t* p = data[w] + 64 * b;
      for (int i = 0; i < 4; ++i) {
        schedule[w][i] =
            _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i)), byte_swap);
      }
    }
    // 16 groups of four rounds. Group g uses message words W[4g..4g+3], kept in
    // schedule[w][g % 4]; from group 4 on they are computed from the previous 16 words
    // (W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]).
#pragma GCC unroll 16
    for (int g = 0; g < 16; ++g) {
      const __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(kRoundConstants + 4 * g));
#pragma GCC unroll 4
      for (int w = 0; w < kWays; ++w) {
        __m128i* s = schedule[w];
        if (g >= 4) {
          __m128i x = _mm_sha256msg1_epu32(s[g % 4], s[(g + 1) % 4]);
          x = _mm_add_epi32(x, _mm_alignr_epi8(s[(g + 3) % 4], s[(g + 2) % 4], 4));
          s[g % 4] = _mm_sha256msg2_epu32(x, s[(g + 3) % 4]);
        }
        __m128i wk = _mm_add_epi32(s[g % 4], k);
        cdgh[w] = _mm_sha256rnds2_epu32(cdgh[w], abef[w], wk);
        abef[w] = _mm_sha256rnds2_epu32(abef[w], cdgh[w], _mm_shuffle_epi32(wk, 0x0E));
      }
    }
    for (int w = 0; w < kWays; ++w) {
      abef[w] = _mm_add_epi32(abef[w], saved_abef[w]);
      cdgh[w] = _mm_add_epi32(cdgh[w], saved_cdgh[w]);
    }
  }
  for (int w = 0; w < kWays; ++w) state[w] = State{abef[w], cdgh[w]};
}

CLAWBACK_SHA_TARGET void StoreDigest(const State& state, uint8_t* out) {
  __m128i feba = _mm_shuffle_epi32(state.abef, 0x1B);
  __m128i dchg = _mm_shuffle_epi32(state.cdgh, 0xB1);
  __m128i abcd = _mm_blend_epi16(feba, dchg, 0xF0);
  __m128i efgh = _mm_alignr_epi8(dchg, feba, 8);
  uint32_t h[8];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h), abcd);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h + 4), efgh);
  for (int i = 0; i < 8; ++i) {
    out[4 * i] = static_cast<uint8_t>(h[i] >> 24);
    out[4 * i + 1] = static_cast<uint8_t>(h[i] >> 16);
    out[4 * i + 2] = static_cast<uint8_t>(h[i] >> 8);
    out[4 * i + 3] = static_cast<uint8_t>(h[i]);
  }
}

// Hashes `message` from byte `done` (a multiple of 64, already compressed into `state`) to
// the end, pads it (FIPS 180-4 §5.1.1) and writes the digest.
CLAWBACK_SHA_TARGET void Finish(State state, std::string_view message, size_t done, uint8_t* out) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(message.data());
  const size_t full = (message.size() - done) / 64;
  const uint8_t* p = bytes + done;
  Compress<1>(&state, &p, full);
  done += 64 * full;
  const size_t rest = message.size() - done;
  uint8_t tail[128] = {};
  if (rest > 0) std::memcpy(tail, bytes + done, rest);
  tail[rest] = 0x80;
  const size_t tail_blocks = rest + 9 <= 64 ? 1 : 2;
  const uint64_t bits = static_cast<uint64_t>(message.size()) * 8;
  for (int i = 0; i < 8; ++i) tail[64 * tail_blocks - 1 - i] = static_cast<uint8_t>(bits >> (8 * i));
  const uint8_t* t = tail;
  Compress<1>(&state, &t, tail_blocks);
  StoreDigest(state, out);
}

#endif  // CLAWBACK_SHA_NI

}  // namespace

bool Sha256PairAccelerated() {
#if CLAWBACK_SHA_NI
  static const bool supported = __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1") &&
                                __builtin_cpu_supports("ssse3");
  return supported;
#else
  return false;
#endif
}

void Sha256PairPortable(std::string_view a, std::string_view b, uint8_t* out_a, uint8_t* out_b) {
  OpenSslSha256(a, out_a);
  OpenSslSha256(b, out_b);
}

void Sha256Pair(std::string_view a, std::string_view b, uint8_t* out_a, uint8_t* out_b) {
#if CLAWBACK_SHA_NI
  if (Sha256PairAccelerated()) {
    State state[2] = {InitialState(), InitialState()};
    const size_t blocks = std::min(a.size(), b.size()) / 64;
    const uint8_t* data[2] = {reinterpret_cast<const uint8_t*>(a.data()),
                              reinterpret_cast<const uint8_t*>(b.data())};
    Compress<2>(state, data, blocks);
    Finish(state[0], a, 64 * blocks, out_a);
    Finish(state[1], b, 64 * blocks, out_b);
    return;
  }
#endif
  Sha256PairPortable(a, b, out_a, out_b);
}

}  // namespace clawback::store
