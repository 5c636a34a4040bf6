// What became of a deployment (LearnEngine::OutcomeOf): its health checks, resolutions and
// what followed it, as a label and the action that resolved it.
#include "learn/engine.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace clawback::learn {

using Json = nlohmann::json;

namespace {

bool IsHealthCheck(const ledger::Event& e, const std::string& dep) {
  if (e.kind != "health_check" && e.kind != "check") return false;
  return e.attributes.is_object() && e.attributes.value("deployment_id", "") == dep;
}

std::optional<bool> CheckPassed(const ledger::Event& e) {
  const Json& a = e.attributes;
  if (a.contains("passed") && a["passed"].is_boolean()) return a["passed"].get<bool>();
  if (a.contains("status") && a["status"].is_string()) {
    std::string s = a["status"];
    if (s == "passed" || s == "ok" || s == "healthy") return true;
    if (s == "failed" || s == "error" || s == "unhealthy") return false;
  }
  return std::nullopt;
}

}  // namespace

Json Outcome::ToJson() const {
  Json j = {{"label", label}, {"action", action}, {"detail", detail}};
  j["resolved_after_ms"] = resolved_after_ms ? Json(*resolved_after_ms) : Json(nullptr);
  return j;
}

Result<Outcome> LearnEngine::OutcomeOf(const ledger::Deployment& d) {
  Outcome o;
  const std::string id = d.id.ToString();
  // Health checks and explicit resolutions live on the deployment's conversation.
  std::optional<int64_t> first_fail, pass_after_fail;
  bool checked_ok = false;
  const ledger::Event* resolution = nullptr;
  std::optional<ledger::Trace> trace;
  if (d.conversation_id) {
    auto t = ledger_->GetTrace(*d.conversation_id);
    if (!t.ok() && t.status().code() != StatusCode::kNotFound) return t.status();
    if (t.ok()) trace = std::move(*t);
  }
  if (trace) {
    for (const auto& e : trace->events) {
      if (IsHealthCheck(e, id)) {
        auto passed = CheckPassed(e);
        if (!passed) continue;
        if (!*passed && !first_fail) first_fail = e.time_ms;
        if (*passed && first_fail && !pass_after_fail) pass_after_fail = e.time_ms;
        if (*passed) checked_ok = true;
      } else if (e.kind == "deployment.resolution" && e.attributes.is_object() &&
                 e.attributes.value("deployment_id", "") == id) {
        resolution = &e;
      }
    }
  }
  const int64_t failed_at = first_fail.value_or(d.finished_at_ms.value_or(d.started_at_ms));

  // 1. A rollback of the deployment (or of its conversation after it started).
  ASSIGN_OR_RETURN(auto rbs, ledger_->ListRollbacksFor("deployment", id));
  if (d.conversation_id) {
    ASSIGN_OR_RETURN(auto conv_rbs, ledger_->ListRollbacksFor("conversation", d.conversation_id->ToString()));
    for (auto& r : conv_rbs)
      if (r.started_at_ms >= d.started_at_ms) rbs.push_back(std::move(r));
  }
  rbs.erase(std::remove_if(rbs.begin(), rbs.end(),
                           [](const ledger::RollbackRecord& r) { return r.status == "failed"; }),
            rbs.end());
  if (!rbs.empty() || d.status == "rolled_back") {
    o.label = "rolled_back";
    o.action = "rollback";
    if (!rbs.empty()) {
      const auto& r = rbs.front();
      o.detail = {{"rollback_id", r.id.ToString()}, {"mode", r.mode.empty() ? "exact" : r.mode},
                  {"target_kind", r.target_kind}, {"target", r.target}};
      if (r.plan.is_object() && r.plan.contains("conversation_id")) o.detail["conversation_id"] = r.plan["conversation_id"];
      int64_t at = r.finished_at_ms.value_or(r.started_at_ms);
      if (at >= failed_at) o.resolved_after_ms = at - failed_at;
    } else {
      o.detail = {{"mode", "exact"}};
      if (d.finished_at_ms && *d.finished_at_ms >= failed_at) o.resolved_after_ms = *d.finished_at_ms - failed_at;
    }
    if (d.conversation_id && !o.detail.contains("conversation_id"))
      o.detail["conversation_id"] = d.conversation_id->ToString();
    return o;
  }
  // 2. An explicit resolution.
  if (resolution) {
    o.label = "resolved";
    o.action = resolution->attributes.value("action", "fix_forward");
    o.detail = resolution->attributes;
    o.detail.erase("deployment_id");
    if (resolution->time_ms >= failed_at) o.resolved_after_ms = resolution->time_ms - failed_at;
    return o;
  }
  // 3. Recovered by itself.
  if (first_fail && pass_after_fail) {
    o.label = "recovered";
    o.action = "wait";
    o.resolved_after_ms = *pass_after_fail - *first_fail;
    return o;
  }
  const bool failed = d.status == "failed" || first_fail.has_value();
  if (!failed) {
    // Still running and never checked: nothing is known yet.
    o.label = d.status == "started" && !pass_after_fail && !checked_ok ? "pending" : "healthy";
    return o;
  }
  // 4. Fixed by a later commit: the environment's next deployment succeeded, clean.
  ledger::DeploymentFilter f;
  f.environment = d.environment;
  // The next deployment, within two days (the list is newest first, so bound it in time).
  f.since_ms = d.started_at_ms;
  f.until_ms = d.started_at_ms + 2 * 24 * 3600 * 1000;
  f.limit = 1000;
  ASSIGN_OR_RETURN(auto later, ledger_->ListDeployments(f));
  std::sort(later.begin(), later.end(), [](const auto& a, const auto& b) { return a.started_at_ms < b.started_at_ms; });
  for (const auto& n : later) {
    if (n.id == d.id || n.started_at_ms < d.started_at_ms) continue;
    if (n.started_at_ms == d.started_at_ms && n.id < d.id) continue;
    if (n.commit_sha.empty() || n.commit_sha == d.commit_sha) break;
    if (n.status == "succeeded") {
      o.label = "fixed_by_commit";
      o.action = "revert_commit";
      o.detail = {{"fix_commit", n.commit_sha}, {"fix_deployment", n.id.ToString()},
                  {"bad_commit", d.commit_sha}};
      if (n.started_at_ms >= failed_at) o.resolved_after_ms = n.started_at_ms - failed_at;
      return o;
    }
    break;
  }
  o.label = "failed";
  o.action = "none";
  return o;
}

}  // namespace clawback::learn
