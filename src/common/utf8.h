// UTF-8 validation by RFC 3629 (no overlong forms, no UTF-16 surrogates, nothing above
// U+10FFFF) — the rules Go's utf8.ValidString and the JSON library apply, so the ledger's
// JSON writer and the restic-format tree encoder agree on what is valid.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

namespace clawback {

// The length of the valid UTF-8 sequence at p[0..n) (n >= 1), or 0 when none starts there.
size_t Utf8SequenceLength(const unsigned char* p, size_t n);

// Whether every byte of `s` is part of a valid UTF-8 sequence.
bool IsValidUtf8(std::string_view s);

}  // namespace clawback
