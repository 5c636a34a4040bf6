// Health checks of an environment (environment.h's HealthCheck), run after its deploy
// command returns: each is tried every `interval` until it has passed `passes` times in a
// row or its `timeout` has passed since it began. An http check passes on the expected
// status; a command check on exit 0.
//
// Thread-safety: functions; RunHealthChecks runs the checks one after another.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "timemachine/environment.h"

namespace clawback::timemachine {

using Json = nlohmann::json;

struct HealthResult {
  std::string check;   // HealthCheck::Describe()
  bool passed = false;
  int attempts = 0;
  int64_t duration_ms = 0;
  std::string detail;  // the last try: "HTTP 503: …", "exit 3: …", "connection refused"

  Json ToJson() const;
};

HealthResult RunHealthCheck(const HealthCheck& check);

// Every check of the environment, in order (all of them, also after one failed, so the
// report is whole).
std::vector<HealthResult> RunHealthChecks(const std::vector<HealthCheck>& checks);

}  // namespace clawback::timemachine
