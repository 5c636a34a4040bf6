// Time arguments of the CLI (--since, --until): an RFC 3339 time ("2026-11-27T02:00:00Z"),
// a date ("2026-11-27", midnight UTC), or an age before now ("90s", "30m", "2h", "7d", "2w").
#pragma once

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "common/status.h"

namespace clawback::cli {

// Unix milliseconds; InvalidArgument naming `flag` and the accepted forms otherwise.
Result<int64_t> ParseTimeArg(const std::string& text, const std::string& flag,
                             const Clock& clock = SystemClock());

}  // namespace clawback::cli
