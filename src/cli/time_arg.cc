#include "cli/time_arg.h"

namespace clawback::cli {

Result<int64_t> ParseTimeArg(const std::string& text, const std::string& flag,
                             const Clock& clock) {
  int64_t ms = 0;
  if (ParseRfc3339Millis(text, &ms)) return ms;
  if (text.size() == 10 && text[4] == '-' && text[7] == '-' &&
      ParseRfc3339Millis(text + "T00:00:00Z", &ms)) {
    return ms;
  }
  if (int64_t age = 0; ParseDurationMillis(text, &age)) return clock.NowUnixMillis() - age;
  return InvalidArgument(flag + " \"" + text +
                         "\": expected an RFC 3339 time (2026-11-27T02:00:00Z), a date "
                         "(2026-11-27) or an age (90s, 30m, 2h, 7d, 2w)");
}

}  // namespace clawback::cli
