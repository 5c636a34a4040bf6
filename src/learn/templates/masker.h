// Variable masking for the template miner: the step before clustering.
//
// A log line's content is split on whitespace and every token is scanned once, by hand
// (no regex on the default path), for the values that are variables in almost every log:
// numbers (signed, decimal, with a unit suffix such as `10ms` or `4KB`), hexadecimal
// (`0x1f`, long hex runs such as `003a90fc`), IPv4 addresses with or without a port, host
// names with a port or a top-level domain, UUIDs, URLs, absolute paths and identifiers that
// join words and numbers with underscores (`attempt_1445_0020_m_000000_0`). A value is
// replaced by `<*>`; the punctuation around it is kept, so `(uid=0),` becomes
// `(uid=<*>),` and `node-246` becomes `node-<*>`. A size unit written as its own token after a
// masked number (`5.2 KB`) joins the number's `<*>`.
//
// User-given regexes (`--mask`) run before the built-in scan; each match becomes `<*>`.
//
// Thread-safety: a Masker is immutable after Create(); Mask() may run concurrently with
// distinct MaskedLine outputs.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace clawback::learn {

// The wildcard that stands for a variable in masked lines and templates.
inline constexpr std::string_view kWildcard = "<*>";

struct MaskOptions {
  bool builtin = true;                    // the hand-rolled scan described above
  std::vector<std::string> user_regexes;  // ECMAScript syntax, applied first
};

// The tokens of one masked line. Views point into `buffer`; reuse one MaskedLine across
// lines to avoid allocations.
struct MaskedLine {
  std::string buffer;
  std::vector<std::string_view> tokens;
};

class Masker {
 public:
  // Fails with InvalidArgument naming the regex that does not compile.
  static Result<Masker> Create(const MaskOptions& options);

  // Tokenises `content` on whitespace and masks every token into `out`.
  void Mask(std::string_view content, MaskedLine* out) const;

  // The masked form of a single whitespace-free token (exposed for tests).
  static std::string MaskToken(std::string_view token);

 private:
  Masker() = default;
  bool builtin_ = true;
  std::vector<std::shared_ptr<const std::regex>> regexes_;
};

// True for a token that is exactly the wildcard or contains one.
inline bool HasWildcard(std::string_view token) {
  return token.find(kWildcard) != std::string_view::npos;
}

}  // namespace clawback::learn
