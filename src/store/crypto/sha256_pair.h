// Two SHA-256 digests computed together.
//
// A snapshot hashes every chunk of plaintext for its blob id. On x86 with the SHA
// extensions one message's rounds wait on the latency of the SHA instructions; interleaving
// a second message fills that gap, and two messages hash in ~0.6x the time of two OpenSSL
// digests one after the other (2.5-2.8 against 1.55 GB/s per core on the benchmark VM).
// OpenSSL has no interface for that, so the compression function for this case is here: the
// standard SHA-256 (FIPS 180-4) round structure on the SHA-NI instructions, checked against
// OpenSSL in sha256_pair_test.cc. Without the extensions (or off x86) it is two OpenSSL
// digests.
//
// Thread-safety: reentrant.
#pragma once

#include <cstdint>
#include <string_view>

namespace clawback::store {

// Whether Sha256Pair runs interleaved on this CPU.
bool Sha256PairAccelerated();

// out_a = SHA-256(a), out_b = SHA-256(b) (32 bytes each). Both messages are processed
// together up to the shorter one's length, the rest of the longer one alone.
void Sha256Pair(std::string_view a, std::string_view b, uint8_t* out_a, uint8_t* out_b);

// The same with the portable path forced (tests compare the two).
void Sha256PairPortable(std::string_view a, std::string_view b, uint8_t* out_a, uint8_t* out_b);

}  // namespace clawback::store
