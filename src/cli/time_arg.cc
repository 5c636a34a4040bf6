#include "cli/time_arg.h"

#include <cctype>

namespace clawback::cli {

Result<int64_t> ParseTimeArg(const std::string& text, const std::string& flag,
                             const Clock& clock) {
  int64_t ms = 0;
  if (ParseRfc3339Millis(text, &ms)) return ms;
  if (text.size() == 10 && text[4] == '-' && text[7] == '-' &&
      ParseRfc3339Millis(text + "T00:00:00Z", &ms)) {
    return ms;
  }
  if (text.size() >= 2 && std::isdigit(static_cast<unsigned char>(text[0]))) {
    size_t i = 0;
    int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) &&
           n < 1'000'000'000) {
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    std::string unit = text.substr(i);
    int64_t unit_ms = 0;
    if (unit == "s") unit_ms = 1000;
    if (unit == "m") unit_ms = 60'000;
    if (unit == "h") unit_ms = 3'600'000;
    if (unit == "d") unit_ms = 86'400'000;
    if (unit == "w") unit_ms = 7 * 86'400'000LL;
    if (unit_ms != 0) return clock.NowUnixMillis() - n * unit_ms;
  }
  return InvalidArgument(flag + " \"" + text +
                         "\": expected an RFC 3339 time (2026-11-27T02:00:00Z), a date "
                         "(2026-11-27) or an age (90s, 30m, 2h, 7d, 2w)");
}

}  // namespace clawback::cli
