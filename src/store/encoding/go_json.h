// Byte-exact reproductions of the Go encodings restic's files use (restic format spec
// §10.4–10.6): Go encoding/json string escaping, strconv.Quote/Unquote for node names,
// standard padded base64 and RFC 3339 timestamps with nanoseconds.
//
// They matter for deduplication, not validity: a tree blob's id is the SHA-256 of its JSON,
// so our trees only share blobs with restic's when every byte matches.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/utf8.h"

namespace clawback::store {

// Appends `s` as a JSON string literal, quotes included, exactly as Go 1.19's encoding/json
// writes it: `"` `\` -> `\"` `\\`; \n \r \t short escapes; other bytes < 0x20 and `<` `>` `&`
// as \u00xx; U+2028/U+2029 escaped; invalid UTF-8 bytes replaced by \ufffd; the rest raw.
void AppendGoJsonString(std::string* out, std::string_view s);

// The inside of Go's strconv.Quote(raw), without the surrounding quotes: how restic stores
// node names. Printable runes (Unicode L, M, N, P, S and ASCII space) stay raw UTF-8.
std::string GoQuoteInner(std::string_view raw);
// Inverse of GoQuoteInner: Go's strconv.Unquote applied to `"` + quoted + `"`.
// InvalidArgument on a malformed escape, an unescaped `"` or newline.
Result<std::string> GoUnquoteInner(std::string_view quoted);

// Whether the bytes are valid UTF-8 by Go's rules (no surrogates, no overlongs, <= U+10FFFF):
// common/utf8.h's, which are the same rules.
using ::clawback::IsValidUtf8;

// Standard base64 with `=` padding (Go's base64.StdEncoding).
std::string Base64Encode(std::string_view bytes);
// Strict: requires padding and rejects characters outside the alphabet.
Result<std::string> Base64Decode(std::string_view text);

// A point in time with the UTC offset it was written in, as Go's time.Time marshals it.
struct Timestamp {
  int64_t unix_seconds = kZeroUnixSeconds;  // UTC
  uint32_t nanos = 0;                       // 0 .. 999'999'999
  int32_t utc_offset_seconds = 0;           // the zone the time is written in, east of UTC

  // Go's zero time, 0001-01-01T00:00:00Z.
  static constexpr int64_t kZeroUnixSeconds = -62135596800;

  // The time in this machine's local time zone (what restic writes).
  static Timestamp FromUnixLocal(int64_t seconds, uint32_t nanos);
  static Timestamp FromUnixUtc(int64_t seconds, uint32_t nanos) { return {seconds, nanos, 0}; }
  static Timestamp Now();

  // RFC 3339 with 0-9 fraction digits (trailing zeros trimmed) and `Z` or ±hh:mm, years
  // clamped into 0000..9999 as restic does.
  std::string ToRfc3339() const;
  // Accepts YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm); extra fraction digits are truncated.
  static Result<Timestamp> Parse(std::string_view text);

  bool IsZero() const { return unix_seconds == kZeroUnixSeconds && nanos == 0; }
  // Same instant and same zone (what round-trips byte for byte).
  friend bool operator==(const Timestamp&, const Timestamp&) = default;
  // Orders by instant only.
  bool Before(const Timestamp& o) const {
    return unix_seconds < o.unix_seconds || (unix_seconds == o.unix_seconds && nanos < o.nanos);
  }
};

}  // namespace clawback::store
