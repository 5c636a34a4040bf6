#include "common/clock.h"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

namespace clawback {
namespace {

class SystemClockImpl : public Clock {
 public:
  int64_t NowUnixMillis() const override { return NowUnixNanos() / 1'000'000; }
  int64_t NowUnixNanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t MonotonicNanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

bool ParseDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Clock& SystemClock() {
  static SystemClockImpl clock;
  return clock;
}

std::string FormatRfc3339Millis(int64_t unix_millis) {
  int64_t secs = unix_millis >= 0 ? unix_millis / 1000 : (unix_millis - 999) / 1000;
  int ms = static_cast<int>(unix_millis - secs * 1000);
  time_t t = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  auto yoe = static_cast<unsigned>(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ParseRfc3339(std::string_view s, Rfc3339Form form, Rfc3339Time* out) {
  const bool lenient = form == Rfc3339Form::kLenient;
  int y, mo, d, h = 0, mi = 0, se = 0;
  if (s.size() < 10 || !ParseDigits(s, 0, 4, &y) || s[4] != '-' || !ParseDigits(s, 5, 2, &mo) ||
      s[7] != '-' || !ParseDigits(s, 8, 2, &d))
    return false;
  size_t pos = 10;
  uint32_t nanos = 0;
  int32_t offset = 0;
  if (pos == s.size()) {
    if (!lenient) return false;  // a date alone: midnight UTC
  } else {
    char t = s[pos];
    if (t != 'T' && !(lenient && (t == 't' || t == ' '))) return false;
    if (s.size() < pos + 9 || !ParseDigits(s, pos + 1, 2, &h) || s[pos + 3] != ':' ||
        !ParseDigits(s, pos + 4, 2, &mi) || s[pos + 6] != ':' || !ParseDigits(s, pos + 7, 2, &se))
      return false;
    pos += 9;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      size_t start = pos;
      uint32_t scale = 100000000;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        nanos += static_cast<uint32_t>(s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start) return false;
    }
    if (pos >= s.size()) return false;
    if (s[pos] == 'Z' || (lenient && s[pos] == 'z')) {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int oh, om;
      if (s.size() < pos + 6 || !ParseDigits(s, pos + 1, 2, &oh) || s[pos + 3] != ':' ||
          !ParseDigits(s, pos + 4, 2, &om) || oh > 23 || om > 59)
        return false;
      offset = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
      pos += 6;
    } else {
      return false;
    }
    if (pos != s.size()) return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > (lenient ? 60 : 59)) return false;
  int64_t local = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                  h * 3600 + mi * 60 + se;
  *out = {local - offset, nanos, offset};
  return true;
}

bool ParseRfc3339Millis(std::string_view s, int64_t* unix_millis) {
  Rfc3339Time t;
  if (!ParseRfc3339(s, Rfc3339Form::kLenient, &t)) return false;
  *unix_millis = t.unix_seconds * 1000 + t.nanos / 1'000'000;
  return true;
}

bool ParseDurationMillis(std::string_view text, int64_t* millis) {
  if (text.empty()) return false;
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') return false;
    int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (n > 1'000'000'000'000LL) return false;
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    size_t u = i;
    while (i < text.size() && (text[i] < '0' || text[i] > '9')) ++i;
    const std::string_view unit = text.substr(u, i - u);
    int64_t unit_ms = 0;
    if (unit == "ms") unit_ms = 1;
    if (unit == "s") unit_ms = 1000;
    if (unit == "m") unit_ms = 60'000;
    if (unit == "h") unit_ms = 3'600'000;
    if (unit == "d") unit_ms = 86'400'000;
    if (unit == "w") unit_ms = 7 * 86'400'000LL;
    if (unit_ms == 0 || n > (INT64_MAX - total) / unit_ms) return false;
    total += n * unit_ms;
  }
  *millis = total;
  return true;
}

}  // namespace clawback
