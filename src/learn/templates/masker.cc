#include "learn/templates/masker.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace clawback::learn {
namespace {

constexpr std::array<bool, 256> MakeTable(const char* chars) {
  std::array<bool, 256> t{};
  for (const char* p = chars; *p; ++p) t[static_cast<unsigned char>(*p)] = true;
  return t;
}

// Characters that separate a variable from the constant text around it inside a token.
constexpr auto kDelim = MakeTable(".,:;=/()[]{}<>@#$+-'\"|!?*&%~^\\`");
// Punctuation stripped from a token's ends before it is classified, and put back after.
constexpr auto kLead = MakeTable("([{<'\"");
constexpr auto kTrail = MakeTable(")]}>,;:'\".!?");
// Characters without which no built-in rule can fire: every value rule needs a digit, a
// path or URL slash, a dot (host names), a dash (UUIDs) or a `<*>` already in the token.
constexpr auto kMaskable = MakeTable("0123456789/.-<");

inline bool IsDelim(char c) { return kDelim[static_cast<unsigned char>(c)]; }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
inline bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool IsAlpha(char c) { return IsLower(c) || IsUpper(c); }
inline bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
inline bool IsHex(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
inline bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
inline bool EndsSegment(std::string_view s, size_t i) { return i >= s.size() || IsDelim(s[i]); }

// Length of a run of digits at s[i].
inline size_t Digits(std::string_view s, size_t i) {
  size_t j = i;
  while (j < s.size() && IsDigit(s[j])) ++j;
  return j - i;
}

// An IPv4 address at s[i] (four dotted groups of 1-3 digits), optionally followed by
// `:port`. Returns its length or 0.
size_t MatchIpv4(std::string_view s, size_t i) {
  size_t j = i;
  for (int g = 0; g < 4; ++g) {
    size_t d = Digits(s, j);
    if (d == 0 || d > 3) return 0;
    j += d;
    if (g < 3) {
      if (j >= s.size() || s[j] != '.') return 0;
      ++j;
    }
  }
  if (j < s.size() && IsDigit(s[j])) return 0;
  if (j + 1 < s.size() && s[j] == ':' && IsDigit(s[j + 1])) {
    size_t d = Digits(s, j + 1);
    if (d <= 5) j += 1 + d;
  }
  return j - i;
}

// A UUID (8-4-4-4-12 hex digits) at s[i]; returns 36 or 0.
size_t MatchUuid(std::string_view s, size_t i) {
  static constexpr int kGroups[] = {8, 4, 4, 4, 12};
  size_t j = i;
  for (int g = 0; g < 5; ++g) {
    for (int k = 0; k < kGroups[g]; ++k, ++j)
      if (j >= s.size() || !IsHex(s[j])) return 0;
    if (g < 4) {
      if (j >= s.size() || s[j] != '-') return 0;
      ++j;
    }
  }
  return j - i;
}

// Unit suffixes that keep a number a single value: durations and sizes.
bool IsUnitSuffix(std::string_view u) {
  static constexpr std::string_view kUnits[] = {
      "ns", "us", "ms", "s", "sec", "secs", "m", "min", "mins", "h", "hr", "hrs", "d",
      "b", "B", "k", "K", "kb", "KB", "kB", "KiB", "M", "mb", "MB", "MiB", "G", "gb", "GB",
      "GiB", "T", "tb", "TB", "TiB", "PB", "x", "X", "%"};
  for (auto k : kUnits)
    if (u == k) return true;
  return false;
}

// A number at s[i]: optional sign when at a segment start, digits, dotted digit groups
// (decimals, versions), an exponent, a unit suffix. It must end the segment.
size_t MatchNumber(std::string_view s, size_t i) {
  size_t j = i;
  if (j < s.size() && (s[j] == '-' || s[j] == '+')) ++j;
  size_t d = Digits(s, j);
  if (d == 0) return 0;
  j += d;
  while (j + 1 < s.size() && s[j] == '.' && IsDigit(s[j + 1])) j += 1 + Digits(s, j + 1);
  if (j + 1 < s.size() && (s[j] == 'e' || s[j] == 'E')) {
    size_t k = j + 1;
    if (k < s.size() && (s[k] == '-' || s[k] == '+')) ++k;
    size_t e = Digits(s, k);
    if (e > 0 && EndsSegment(s, k + e)) return k + e - i;
  }
  if (EndsSegment(s, j)) return j - i;
  // Unit suffix: letters (or %) up to the end of the segment.
  size_t k = j;
  while (k < s.size() && (IsAlpha(s[k]) || s[k] == '%')) ++k;
  if (k > j && EndsSegment(s, k) && IsUnitSuffix(s.substr(j, k - j))) return k - i;
  return 0;
}

// `0x` hex, or a run of at least 6 hex digits holding both a digit and a letter.
size_t MatchHex(std::string_view s, size_t i) {
  if (i + 2 < s.size() && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') &&
      IsHex(s[i + 2])) {
    size_t j = i + 2;
    while (j < s.size() && IsHex(s[j])) ++j;
    return EndsSegment(s, j) ? j - i : 0;
  }
  size_t j = i;
  bool digit = false, letter = false;
  while (j < s.size() && IsHex(s[j])) {
    if (IsDigit(s[j])) digit = true; else letter = true;
    ++j;
  }
  if (j - i >= 6 && digit && letter && EndsSegment(s, j)) return j - i;
  return 0;
}

bool IsHostChars(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!IsAlnum(c) && c != '.' && c != '-' && c != '_') return false;
  return true;
}

bool IsIpv4(std::string_view s) { return !s.empty() && MatchIpv4(s, 0) == s.size(); }

// Top-level domains that end host names in logs.
bool IsTld(std::string_view t) {
  static constexpr std::string_view kTlds[] = {
      "com", "net", "org", "edu", "gov", "mil", "int", "io", "co", "uk", "de", "fr", "cn",
      "jp", "ru", "br", "in", "au", "nl", "se", "ch", "it", "es", "us", "ca", "om", "info",
      "biz", "local", "localdomain", "lan", "internal", "arpa", "cloud", "dev", "app"};
  for (auto k : kTlds)
    if (t == k) return true;
  return false;
}

// A host name with at least two dots whose last label is a top-level domain.
bool IsDomain(std::string_view s) {
  if (!IsHostChars(s)) return false;
  size_t dots = 0;
  for (char c : s) dots += c == '.';
  if (dots < 2) return false;
  size_t last = s.rfind('.');
  return IsTld(s.substr(last + 1));
}

// An identifier that joins words and numbers with underscores, holding at least one
// all-digit part: `attempt_1445144423722_0020_m_000000_0`, `blk_-4411`, `rdd_2_0`.
bool IsUnderscoreId(std::string_view s) {
  if (s.find('_') == std::string_view::npos) return false;
  bool numeric_part = false;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '_') {
      std::string_view part = s.substr(start, i - start);
      if (!part.empty() && part[0] == '-') part.remove_prefix(1);
      if (!part.empty() && Digits(part, 0) == part.size()) numeric_part = true;
      start = i + 1;
    } else if (!IsAlnum(s[i]) && s[i] != '-') {
      return false;
    }
  }
  return numeric_part;
}

// What IsWholeValue's rules look for, one bit each: `:` 1, `/` 2, `_` 4, digit 8, `<` 16,
// `.` 32 (the highest bit, so `f >> 5` counts dots).
constexpr std::array<uint8_t, 256> MakeWholeValueChars() {
  std::array<uint8_t, 256> t{};
  t[':'] = 1;
  t['/'] = 2;
  t['_'] = 4;
  for (char c = '0'; c <= '9'; ++c) t[static_cast<unsigned char>(c)] = 8;
  t['<'] = 16;
  t['.'] = 32;
  return t;
}
constexpr auto kWholeValueChars = MakeWholeValueChars();

// Whole-value rules: a value that runs to the end of the token and is a variable as a
// whole (paths, URLs, network addresses, host names, UUIDs, underscore ids).
bool IsWholeValue(std::string_view s) {
  if (s.size() < 2) return false;
  if (s[0] == '/' || (s[0] == '~' && s[1] == '/') || (s[0] == '.' && s[1] == '/') ||
      (s.size() > 2 && s[0] == '.' && s[1] == '.' && s[2] == '/'))
    return true;
  // One pass for the characters each rule below needs; most tokens fail them all here.
  unsigned seen = 0;
  size_t dots = 0;
  for (char c : s) {
    const unsigned f = kWholeValueChars[static_cast<unsigned char>(c)];
    seen |= f;
    dots += f >> 5;
  }
  const bool colon = seen & 1, slash = seen & 2, underscore = seen & 4, digit = seen & 8,
             lt = seen & 16;
  if (colon && slash) {
    if (size_t p = s.find("://"); p != std::string_view::npos && p > 0) {
      bool scheme = true;
      for (size_t i = 0; i < p; ++i)
        if (!IsAlnum(s[i]) && s[i] != '+' && s[i] != '-' && s[i] != '.') scheme = false;
      if (scheme) return true;
    }
  }
  if (s.size() == 36 && MatchUuid(s, 0) == 36) return true;
  // host[/ip][:port]
  std::string_view rest = s;
  bool port = false;
  if (colon && digit) {
    if (size_t c = rest.rfind(':'); c != std::string_view::npos && c + 1 < rest.size() &&
                                    Digits(rest, c + 1) == rest.size() - c - 1 &&
                                    rest.size() - c - 1 <= 5) {
      rest = rest.substr(0, c);
      port = true;
    }
  }
  // An address part may already be a wildcard (from a --mask regex).
  if (digit || lt) {
    auto ip = [](std::string_view x) { return x == kWildcard || IsIpv4(x); };
    if (ip(rest)) return true;
    if (slash) {
      if (size_t sl = rest.find('/'); sl != std::string_view::npos) {
        std::string_view host = rest.substr(0, sl);
        if ((host == kWildcard || IsHostChars(host)) && ip(rest.substr(sl + 1))) return true;
      }
    }
  }
  if (port && IsHostChars(rest)) {
    for (char c : rest)
      if (IsDigit(c) || c == '.') return true;
  }
  if (dots >= 2 && IsDomain(rest)) return true;
  return underscore && digit && IsUnderscoreId(s);
}

// Masks the core of a token (its outer punctuation already removed) into out.
void MaskCore(std::string_view s, std::string* out) {
  if (IsWholeValue(s)) {
    out->append(kWildcard);
    return;
  }
  size_t i = 0;
  while (i < s.size()) {
    const bool seg_start = i == 0 || IsDelim(s[i - 1]);
    if (seg_start) {
      // A value after `key=` or `key:` that is a whole-value variable.
      if (i > 0 && (s[i - 1] == '=' || s[i - 1] == ':') && IsWholeValue(s.substr(i))) {
        out->append(kWildcard);
        return;
      }
      size_t n = 0;
      if (IsDigit(s[i])) {
        n = MatchIpv4(s, i);
        if (n && !EndsSegment(s, i + n)) n = 0;
        if (!n) n = MatchUuid(s, i);
        if (!n) n = MatchHex(s, i);
        if (!n) n = MatchNumber(s, i);
      } else if ((s[i] == '-' || s[i] == '+') && i + 1 < s.size() && IsDigit(s[i + 1])) {
        n = MatchNumber(s, i);
      } else if (IsHex(s[i])) {
        n = MatchUuid(s, i);
        if (!n) n = MatchHex(s, i);
      }
      if (n) {
        out->append(kWildcard);
        i += n;
        continue;
      }
    }
    if (IsDelim(s[i])) {
      out->push_back(s[i++]);
      continue;
    }
    size_t j = i;
    while (j < s.size() && !IsDelim(s[j])) ++j;
    out->append(s.substr(i, j - i));
    i = j;
  }
}

void MaskTokenInto(std::string_view tok, std::string* out) {
  // Most tokens are plain words: nothing to mask, copy them as they are.
  bool maskable = false;
  for (char c : tok) maskable |= kMaskable[static_cast<unsigned char>(c)];
  if (!maskable) {
    out->append(tok);
    return;
  }
  size_t b = 0, e = tok.size();
  // Outer punctuation, but never half of a `<*>` already in the token.
  while (b < e && kLead[static_cast<unsigned char>(tok[b])] &&
         !(tok[b] == '<' && tok.substr(b).starts_with(kWildcard)))
    ++b;
  while (e > b && kTrail[static_cast<unsigned char>(tok[e - 1])] &&
         !(tok[e - 1] == '>' && tok.substr(0, e).ends_with(kWildcard)))
    --e;
  // A path keeps a final dot: `/a/part-00590.` is one value.
  if (e < tok.size() && tok[e] == '.' && e > b && tok[b] == '/' &&
      tok.find_first_not_of('.', e) == std::string_view::npos)
    e = tok.size();
  // A trailing `)` or `]` that closes a bracket opened inside the core belongs to it.
  if (e < tok.size() && (tok[e] == ')' || tok[e] == ']')) {
    char open = tok[e] == ')' ? '(' : '[';
    if (tok.substr(b, e - b).find(open) != std::string_view::npos) ++e;
  }
  out->append(tok.substr(0, b));
  if (e > b) MaskCore(tok.substr(b, e - b), out);
  out->append(tok.substr(e));
}

bool IsSizeUnit(std::string_view u) {
  static constexpr std::string_view kUnits[] = {"B",  "KB",  "kB",  "MB",  "GB", "TB",
                                                "PB", "KiB", "MiB", "GiB", "TiB"};
  for (auto k : kUnits)
    if (u == k) return true;
  return false;
}

// Two variables with nothing or only a dot between them are one value.
void CollapseWildcards(std::string* s) {
  for (std::string_view pat : {std::string_view("<*><*>"), std::string_view("<*>.<*>")}) {
    size_t p;
    while ((p = s->find(pat)) != std::string::npos) s->replace(p, pat.size(), kWildcard);
  }
}

// Replaces every match of `re` in `text`. With the built-in masks on, a match is masked as
// the built-in scan would mask it when that finds a variable in it (so `core.2275` gives
// `core.<*>` and `=30` gives `=<*>`, keeping their constant part), else as a whole.
std::string ReplaceMatches(const std::string& text, const std::regex& re, bool builtin) {
  std::string out;
  auto it = std::sregex_iterator(text.begin(), text.end(), re);
  size_t last = 0;
  for (; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    size_t pos = static_cast<size_t>(m.position(0));
    size_t len = static_cast<size_t>(m.length(0));
    if (len == 0) continue;
    out.append(text, last, pos - last);
    std::string_view match(text.data() + pos, len);
    std::string masked;
    if (builtin && match.find_first_of(" \t") == std::string_view::npos)
      MaskTokenInto(match, &masked);
    if (masked.find(kWildcard) != std::string::npos) {
      out.append(masked);
    } else {
      out.append(kWildcard);
    }
    last = pos + len;
  }
  out.append(text, last, std::string::npos);
  CollapseWildcards(&out);
  return out;
}

}  // namespace

Result<Masker> Masker::Create(const MaskOptions& options) {
  Masker m;
  m.builtin_ = options.builtin;
  for (const auto& r : options.user_regexes) {
    try {
      m.regexes_.push_back(std::make_shared<const std::regex>(r, std::regex::ECMAScript));
    } catch (const std::regex_error& e) {
      return InvalidArgument("--mask '" + r + "' is not a valid regular expression: " + e.what());
    }
  }
  return m;
}

std::string Masker::MaskToken(std::string_view token) {
  std::string out;
  MaskTokenInto(token, &out);
  return out;
}

void Masker::Mask(std::string_view content, MaskedLine* out) const {
  std::string replaced;
  if (!regexes_.empty()) {
    replaced.assign(content);
    for (const auto& re : regexes_) replaced = ReplaceMatches(replaced, *re, builtin_);
    content = replaced;
  }
  std::string& buf = out->buffer;
  buf.clear();
  // Offsets first: views are made once the buffer stops growing.
  thread_local std::vector<std::pair<uint32_t, uint32_t>> spans;
  spans.clear();
  size_t i = 0;
  const size_t n = content.size();
  while (i < n) {
    while (i < n && IsSpace(content[i])) ++i;
    if (i >= n) break;
    size_t j = i;
    while (j < n && !IsSpace(content[j])) ++j;
    std::string_view tok = content.substr(i, j - i);
    i = j;
    if (builtin_ && !spans.empty() &&
        std::string_view(buf).substr(spans.back().first, spans.back().second) == kWildcard) {
      // `5.2 KB,`: the unit joins the number's wildcard; its punctuation stays.
      size_t e = tok.size();
      while (e > 0 && kTrail[static_cast<unsigned char>(tok[e - 1])]) --e;
      if (IsSizeUnit(tok.substr(0, e))) {
        buf.append(tok.substr(e));
        spans.back().second += static_cast<uint32_t>(tok.size() - e);
        continue;
      }
    }
    size_t start = buf.size();
    if (builtin_) {
      MaskTokenInto(tok, &buf);
    } else {
      buf.append(tok);
    }
    spans.emplace_back(static_cast<uint32_t>(start), static_cast<uint32_t>(buf.size() - start));
  }
  out->tokens.clear();
  std::string_view view(buf);
  for (auto [s, l] : spans) out->tokens.push_back(view.substr(s, l));
}

}  // namespace clawback::learn
