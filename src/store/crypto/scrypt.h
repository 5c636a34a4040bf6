// scrypt (RFC 7914) with its p independent lanes derived on several threads.
//
// scrypt(P, S, N, r, p) = PBKDF2-SHA256(P, B', 1, dkLen) where B = PBKDF2-SHA256(P, S, 1,
// p·128·r) is split into p lanes of 128·r bytes and each lane goes through ROMix (N
// BlockMix steps filling a 128·r·N-byte table, N more reading it at data-dependent
// positions). The lanes do not depend on one another, so they can run side by side: the
// parameters — and therefore the work an attacker must do per guess — are unchanged, only
// the wall time of one derivation drops (restic 0.14 and OpenSSL run the lanes one after
// the other). Each lane thread holds its own table (32 MiB for N=2^15, r=8, or half of it,
// see ScryptOptions), mapped for the derivation only and unmapped afterwards.
//
// Salsa20/8 runs on SSE2 vectors with the state kept in diagonal order, so a double round
// needs no shuffles outside the row/column switch.
//
// Thread-safety: reentrant; each call uses its own memory and threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace clawback::store {

struct ScryptOptions {
  // Threads deriving lanes at once; 0 = one per core (at most 4), never more than p.
  int threads = 0;
  // The first thread keeps the whole 128·r·N-byte table; the others keep every
  // `helper_stride`-th state and recompute the rest when ROMix reads them (2: half the
  // memory for 1.25 times the work per lane). Two threads thus need 1.5 tables, not 2: in
  // a short command (an unchanged re-snapshot) the derivation is the peak RSS.
  uint32_t helper_stride = 2;
};

// Derives `out_len` bytes into `out`. REQUIRES: parameters already validated (N a power of
// two > 1, r, p >= 1, 128·r·N and 128·r·p below 2^31). Internal when memory runs out.
Status ScryptDerive(std::string_view password, std::string_view salt, uint64_t n, uint32_t r, uint32_t p,
                    uint8_t* out, size_t out_len, const ScryptOptions& options = {});

}  // namespace clawback::store
