#include "timemachine/health.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/subprocess.h"
#include "http/client.h"

namespace clawback::timemachine {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string Short(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  if (s.size() > 200) s = s.substr(0, 200) + "…";
  return s;
}

// One try within `budget`: passed, and what it saw.
bool TryOnce(const HealthCheck& c, std::chrono::milliseconds budget, std::string* detail) {
  if (!c.http.empty()) {
    http::ClientOptions o;
    o.timeout = budget;
    o.connect_timeout = std::min<std::chrono::milliseconds>(budget, std::chrono::seconds(3));
    o.max_body = 512;
    auto r = http::NewClient(std::move(o))->Get(c.http);
    if (!r.ok()) {
      *detail = r.status().message();
      return false;
    }
    *detail = "HTTP " + std::to_string(r->status);
    if (!r->body.empty()) *detail += ": " + Short(r->body);
    return r->status == c.expect;
  }
  CommandOptions o;
  o.argv = ShellArgv(c.command);
  o.timeout = budget;
  o.max_output = 4096;
  auto r = RunCommand(o);
  if (!r.ok()) {
    *detail = r.status().message();
    return false;
  }
  *detail = r->Describe();
  if (!r->output.empty()) *detail += ": " + Short(r->output);
  return r->ok();
}

}  // namespace

Json HealthResult::ToJson() const {
  return {{"check", check},
          {"passed", passed},
          {"attempts", attempts},
          {"duration_ms", duration_ms},
          {"detail", detail}};
}

HealthResult RunHealthCheck(const HealthCheck& check) {
  HealthResult r;
  r.check = check.Describe();
  const auto start = SteadyClock::now();
  const auto deadline = start + std::chrono::milliseconds(check.timeout_ms);
  int in_a_row = 0;
  for (;;) {
    const auto now = SteadyClock::now();
    auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (budget.count() <= 0 && r.attempts > 0) break;
    budget = std::max(budget, std::chrono::milliseconds(100));
    ++r.attempts;
    const auto tried = SteadyClock::now();
    if (TryOnce(check, budget, &r.detail)) {
      if (++in_a_row >= check.passes) {
        r.passed = true;
        break;
      }
    } else {
      in_a_row = 0;
    }
    const auto next = tried + std::chrono::milliseconds(check.interval_ms);
    if (next >= deadline) break;
    std::this_thread::sleep_until(next);
  }
  r.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count();
  if (!r.passed && check.passes > 1 && in_a_row > 0) {
    r.detail += " (passed " + std::to_string(in_a_row) + " of " + std::to_string(check.passes) +
                " times in a row)";
  }
  return r;
}

std::vector<HealthResult> RunHealthChecks(const std::vector<HealthCheck>& checks) {
  std::vector<HealthResult> out;
  out.reserve(checks.size());
  for (const HealthCheck& c : checks) out.push_back(RunHealthCheck(c));
  return out;
}

}  // namespace clawback::timemachine
