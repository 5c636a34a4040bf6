// Environment helpers of `clawback exec` (exposed for tests).
#pragma once

#include <string>

namespace clawback::cli {

// OTEL_RESOURCE_ATTRIBUTES with clawback.conversation.id=<id>: appended to the existing
// comma-separated list, replacing an earlier clawback.conversation.id entry.
std::string OtelResourceAttributesWith(const std::string& existing, const std::string& id);

}  // namespace clawback::cli
