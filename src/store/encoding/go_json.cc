#include "store/encoding/go_json.h"

#include <algorithm>
#include <cstring>
#include <ctime>

#include "common/clock.h"

namespace clawback::store {
namespace {

constexpr char kHex[] = "0123456789abcdef";

struct RuneRange {
  uint32_t lo, hi;
};
constexpr RuneRange kPrintable[] = {
#include "store/encoding/printable_table.inc"
};

// Decodes one rune at s[i] by Go's rules. Returns -1 (and *size = 1) for invalid input.
int32_t DecodeRune(std::string_view s, size_t i, size_t* size) {
  auto b0 = static_cast<uint8_t>(s[i]);
  *size = 1;
  if (b0 < 0x80) return b0;
  size_t n = s.size() - i;
  auto cont = [&](size_t k) -> int { return static_cast<uint8_t>(s[i + k]); };
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    if (n < 2 || (cont(1) & 0xc0) != 0x80) return -1;
    *size = 2;
    return (b0 & 0x1f) << 6 | (cont(1) & 0x3f);
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    if (n < 3) return -1;
    int c1 = cont(1);
    int lo = 0x80, hi = 0xbf;
    if (b0 == 0xe0) lo = 0xa0;
    if (b0 == 0xed) hi = 0x9f;  // no surrogates
    if (c1 < lo || c1 > hi || (cont(2) & 0xc0) != 0x80) return -1;
    *size = 3;
    return (b0 & 0x0f) << 12 | (c1 & 0x3f) << 6 | (cont(2) & 0x3f);
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    if (n < 4) return -1;
    int c1 = cont(1);
    int lo = 0x80, hi = 0xbf;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;
    if (c1 < lo || c1 > hi || (cont(2) & 0xc0) != 0x80 || (cont(3) & 0xc0) != 0x80) return -1;
    *size = 4;
    return (b0 & 0x07) << 18 | (c1 & 0x3f) << 12 | (cont(2) & 0x3f) << 6 | (cont(3) & 0x3f);
  }
  return -1;
}

void AppendUtf8(std::string* out, uint32_t r) {
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out->push_back(static_cast<char>(0xc0 | r >> 6));
    out->push_back(static_cast<char>(0x80 | (r & 0x3f)));
  } else if (r < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | r >> 12));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | r >> 18));
    out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3f)));
  }
}

bool IsPrintRune(uint32_t r) {
  if (r < 0x80) return r >= 0x20 && r < 0x7f;
  auto it = std::upper_bound(std::begin(kPrintable), std::end(kPrintable), r,
                             [](uint32_t v, const RuneRange& rr) { return v < rr.lo; });
  if (it == std::begin(kPrintable)) return false;
  --it;
  return r <= it->hi;
}

void AppendHexDigits(std::string* out, uint32_t v, int digits) {
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out->push_back(kHex[(v >> shift) & 0xf]);
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Back from days since 1970-01-01 to a date (H. Hinnant's civil_from_days; common/clock.h
// has the way there).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

void AppendGoJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  size_t i = 0;
  size_t start = 0;
  while (i < s.size()) {
    auto b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) {
      if (b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&') {
        ++i;
        continue;
      }
      out->append(s.substr(start, i - start));
      switch (b) {
        case '\\':
          out->append("\\\\");
          break;
        case '"':
          out->append("\\\"");
          break;
        case '\n':
          out->append("\\n");
          break;
        case '\r':
          out->append("\\r");
          break;
        case '\t':
          out->append("\\t");
          break;
        default:
          out->append("\\u00");
          out->push_back(kHex[b >> 4]);
          out->push_back(kHex[b & 0xf]);
      }
      ++i;
      start = i;
      continue;
    }
    size_t size = 0;
    int32_t r = DecodeRune(s, i, &size);
    if (r < 0) {
      out->append(s.substr(start, i - start));
      out->append("\\ufffd");
      i += size;
      start = i;
      continue;
    }
    if (r == 0x2028 || r == 0x2029) {
      out->append(s.substr(start, i - start));
      out->append(r == 0x2028 ? "\\u2028" : "\\u2029");
      i += size;
      start = i;
      continue;
    }
    i += size;
  }
  out->append(s.substr(start));
  out->push_back('"');
}

std::string GoQuoteInner(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() + 8);
  size_t i = 0;
  while (i < raw.size()) {
    size_t size = 0;
    int32_t r = DecodeRune(raw, i, &size);
    if (r < 0) {
      out.append("\\x");
      auto b = static_cast<uint8_t>(raw[i]);
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
      i += 1;
      continue;
    }
    auto ur = static_cast<uint32_t>(r);
    if (ur == '"' || ur == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(ur));
    } else if (IsPrintRune(ur)) {
      out.append(raw.substr(i, size));
    } else {
      switch (ur) {
        case '\a':
          out.append("\\a");
          break;
        case '\b':
          out.append("\\b");
          break;
        case '\f':
          out.append("\\f");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        case '\v':
          out.append("\\v");
          break;
        default:
          if (ur < 0x20 || ur == 0x7f) {
            out.append("\\x");
            AppendHexDigits(&out, ur, 2);
          } else if (ur < 0x10000) {
            out.append("\\u");
            AppendHexDigits(&out, ur, 4);
          } else {
            out.append("\\U");
            AppendHexDigits(&out, ur, 8);
          }
      }
    }
    i += size;
  }
  return out;
}

Result<std::string> GoUnquoteInner(std::string_view q) {
  auto bad = [&](const char* why) {
    return InvalidArgument(std::string("cannot unquote name \"") + std::string(q.substr(0, 120)) + "\": " + why);
  };
  std::string out;
  out.reserve(q.size());
  size_t i = 0;
  while (i < q.size()) {
    char c = q[i];
    if (c == '"' || c == '\n') return bad("unescaped quote or newline");
    if (c != '\\') {
      auto b = static_cast<uint8_t>(c);
      if (b < 0x80) {
        out.push_back(c);
        ++i;
        continue;
      }
      size_t size = 0;
      int32_t r = DecodeRune(q, i, &size);
      if (r < 0) {
        AppendUtf8(&out, 0xfffd);  // what Go's UnquoteChar yields for a stray byte
      } else {
        out.append(q.substr(i, size));
      }
      i += size;
      continue;
    }
    if (i + 1 >= q.size()) return bad("trailing backslash");
    char e = q[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '"':
        out.push_back('"');
        break;
      case 'x':
      case 'u':
      case 'U': {
        int n = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
        if (i + n > q.size()) return bad("short escape");
        uint32_t v = 0;
        for (int k = 0; k < n; ++k) {
          int h = HexVal(q[i + k]);
          if (h < 0) return bad("bad hex escape");
          v = v << 4 | static_cast<uint32_t>(h);
        }
        i += n;
        if (e == 'x') {
          out.push_back(static_cast<char>(v));
        } else {
          if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return bad("invalid code point");
          AppendUtf8(&out, v);
        }
        break;
      }
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        if (i + 2 > q.size()) return bad("short octal escape");
        uint32_t v = static_cast<uint32_t>(e - '0');
        for (int k = 0; k < 2; ++k) {
          char d = q[i + k];
          if (d < '0' || d > '7') return bad("bad octal escape");
          v = v * 8 + static_cast<uint32_t>(d - '0');
        }
        if (v > 255) return bad("octal escape out of range");
        i += 2;
        out.push_back(static_cast<char>(v));
        break;
      }
      default:
        return bad("unknown escape");
    }
  }
  return out;
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(in[k])); };
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t v = byte(i) << 16;
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.append("==");
  } else if (rest == 2) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return InvalidArgument("base64: length is not a multiple of 4");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int pad = 0;
    if (last) {
      if (text[i + 3] == '=') ++pad;
      if (pad == 1 && text[i + 2] == '=') ++pad;
    }
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      if (k >= 4 - pad) {
        v <<= 6;
        continue;
      }
      int d = val(text[i + k]);
      if (d < 0) return InvalidArgument("base64: illegal character");
      v = v << 6 | static_cast<uint32_t>(d);
    }
    out.push_back(static_cast<char>(v >> 16));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xff));
  }
  return out;
}

Timestamp Timestamp::FromUnixLocal(int64_t seconds, uint32_t nanos) {
  Timestamp t{seconds, nanos, 0};
  time_t tt = static_cast<time_t>(seconds);
  struct tm tm_local;
  if (localtime_r(&tt, &tm_local) != nullptr) t.utc_offset_seconds = static_cast<int32_t>(tm_local.tm_gmtoff);
  return t;
}

Timestamp Timestamp::Now() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return FromUnixLocal(ts.tv_sec, static_cast<uint32_t>(ts.tv_nsec));
}

std::string Timestamp::ToRfc3339() const {
  int64_t local = unix_seconds + utc_offset_seconds;
  int64_t days = FloorDiv(local, 86400);
  int64_t secs = local - days * 86400;
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  year = std::clamp<int64_t>(year, 0, 9999);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(year), month, day,
                        static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09u", nanos);
    std::string f(frac);
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  if (utc_offset_seconds == 0) {
    out.push_back('Z');
  } else {
    int32_t off = utc_offset_seconds / 60;
    char sign = off < 0 ? '-' : '+';
    off = off < 0 ? -off : off;
    std::snprintf(buf, sizeof buf, "%c%02d:%02d", sign, off / 60, off % 60);
    out += buf;
  }
  return out;
}

Result<Timestamp> Timestamp::Parse(std::string_view s) {
  Rfc3339Time t;
  if (!ParseRfc3339(s, Rfc3339Form::kStrict, &t))
    return InvalidArgument("invalid RFC 3339 time \"" + std::string(s.substr(0, 64)) + "\"");
  return Timestamp{t.unix_seconds, t.nanos, t.utc_offset_seconds};
}

}  // namespace clawback::store
