// Advice (LearnEngine::RecommendFor…): similar past situations, what resolved them, how
// confident the advice is; and the per-environment risk table.
#include "learn/engine.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace clawback::learn {

using Json = nlohmann::json;

namespace {

std::string Minutes(int64_t ms) {
  int64_t m = (ms + 59999) / 60000;
  if (m < 1) m = 1;
  return std::to_string(m) + " min";
}

std::string JoinShort(const std::vector<std::string>& ids, size_t max = 5) {
  std::string out;
  for (size_t i = 0; i < ids.size() && i < max; ++i) out += (i ? ", " : "") + ids[i];
  if (ids.size() > max) out += ", …";
  return out;
}

}  // namespace

Json Recommendation::ToJson() const {
  Json j;
  j["subject"] = subject;
  j["deployment_id"] = deployment_id ? Json(*deployment_id) : Json(nullptr);
  j["confident"] = confident;
  j["summary"] = summary;
  j["error_templates"] = error_templates;
  auto& sim = j["similar"] = Json::array();
  for (const auto& c : similar)
    sim.push_back({{"deployment_id", c.deployment_id},
                   {"score", std::round(c.score * 1000.0) / 1000.0},
                   {"environment", c.environment},
                   {"commit_sha", c.commit_sha},
                   {"time_ms", c.time_ms},
                   {"outcome", c.outcome.ToJson()}});
  auto& acts = j["actions"] = Json::array();
  for (const auto& a : actions)
    acts.push_back({{"action", a.action},
                    {"text", a.text},
                    {"score", std::round(a.score * 1000.0) / 1000.0},
                    {"confidence", std::round(a.confidence * 1000.0) / 1000.0},
                    {"evidence", a.evidence},
                    {"evidence_text", a.evidence_text}});
  return j;
}

std::vector<std::string> LearnEngine::ErrorTexts(const SituationFeatures& f, size_t limit) {
  std::vector<std::pair<uint64_t, uint64_t>> errs;
  for (uint64_t id : f.error_templates) errs.emplace_back(f.template_counts.at(id), id);
  std::sort(errs.rbegin(), errs.rend());
  std::vector<std::string> out;
  for (size_t i = 0; i < errs.size() && i < limit; ++i) {
    auto it = templates_.find(errs[i].second);
    if (it != templates_.end()) out.push_back(it->second.text);
  }
  return out;
}

Result<Recommendation> LearnEngine::RecommendFor(const SituationFeatures& f,
                                                 const std::optional<ledger::Deployment>& d,
                                                 const std::string& subject) {
  Recommendation rec;
  rec.subject = subject;
  if (d) rec.deployment_id = d->id.ToString();
  rec.error_templates = ErrorTexts(f, 5);
  auto q = Vectorize(f, df_, options_.vectorizer);
  ASSIGN_OR_RETURN(auto hits, index_->Search(q, static_cast<size_t>(options_.neighbors) + 1, Json::object()));

  struct Vote {
    double weight = 0;
    std::vector<const SimilarCase*> cases;
  };
  std::map<std::string, Vote> votes;
  double total = 0;
  rec.similar.reserve(hits.size());
  for (const auto& h : hits) {
    if (h.key == f.id) continue;
    if (rec.similar.size() >= static_cast<size_t>(options_.neighbors)) break;
    auto id = Uuid::Parse(h.key);
    if (!id) continue;
    auto past = ledger_->GetDeployment(*id);
    if (!past.ok()) continue;  // gone from the ledger
    if (d && past->started_at_ms > d->started_at_ms) continue;  // only the past teaches
    SimilarCase c;
    c.deployment_id = h.key;
    c.score = h.score;
    c.environment = past->environment;
    c.commit_sha = past->commit_sha;
    c.time_ms = past->started_at_ms;
    ASSIGN_OR_RETURN(c.outcome, OutcomeOf(*past));
    rec.similar.push_back(std::move(c));
  }
  for (const auto& c : rec.similar) {
    if (c.score < options_.min_similarity) continue;
    if (c.outcome.label == "failed" || c.outcome.label == "pending") continue;  // teaches nothing yet
    double w = c.score * c.score;
    votes[c.outcome.action].weight += w;
    votes[c.outcome.action].cases.push_back(&c);
    total += w;
  }
  for (auto& [action, v] : votes) {
    RankedAction a;
    a.action = action;
    a.score = total > 0 ? v.weight / total : 0;
    float best = 0;
    for (auto* c : v.cases) {
      best = std::max(best, c->score);
      a.evidence.push_back(c->deployment_id);
    }
    a.confidence = a.score * best;
    const size_t n = v.cases.size();
    size_t incidents = 0;
    for (const auto& c : rec.similar)
      if (c.score >= options_.min_similarity && c.outcome.incident()) ++incidents;
    const std::string dep = d ? d->id.ToString() : std::string();
    const std::string of_n = std::to_string(n) + " of " + std::to_string(std::max(n, incidents)) + " similar ";
    if (action == "rollback") {
      std::map<std::string, int> modes;
      for (auto* c : v.cases) ++modes[c->outcome.detail.value("mode", "exact")];
      bool selective = modes["selective"] > modes["exact"];
      if (selective && d && d->conversation_id)
        a.text = "selective rollback of conversation " + d->conversation_id->ToString();
      else if (d)
        a.text = "roll back deployment " + dep + " (restore the state before it)";
      else
        a.text = "roll back the latest deployment";
      a.evidence_text = of_n + "cases were rolled back: " + JoinShort(a.evidence);
    } else if (action == "revert_commit") {
      a.text = d && !d->commit_sha.empty() ? "revert commit " + d->commit_sha : "revert the deployed commit";
      std::vector<std::string> fixes;
      for (auto* c : v.cases)
        if (c->outcome.detail.contains("fix_commit")) fixes.push_back(c->outcome.detail.value("fix_commit", ""));
      a.evidence_text = of_n + "cases were fixed by a later commit: " + JoinShort(a.evidence) +
                        (fixes.empty() ? "" : " (fixes " + JoinShort(fixes) + ")");
    } else if (action == "restore_file") {
      std::map<std::string, int> paths;
      for (auto* c : v.cases)
        if (c->outcome.detail.contains("path")) ++paths[c->outcome.detail.value("path", "")];
      std::string path;
      int best_n = 0;
      for (auto& [p, k] : paths)
        if (k > best_n) best_n = k, path = p;
      std::string snapshot;
      if (d && d->conversation_id) {
        auto t = ledger_->GetTrace(*d->conversation_id);
        if (t.ok())
          for (const auto& s : t->snapshots)
            if (s.time_ms <= d->started_at_ms || s.reason == "pre") snapshot = s.snapshot_id;
      }
      a.text = "restore file " + (path.empty() ? std::string("<path>") : path) + " from snapshot " +
               (snapshot.empty() ? std::string("taken before the deployment") : snapshot);
      a.evidence_text = of_n + "cases were resolved by restoring it: " + JoinShort(a.evidence);
    } else if (action == "wait") {
      int64_t worst = 0;
      for (auto* c : v.cases) worst = std::max(worst, c->outcome.resolved_after_ms.value_or(0));
      a.text = "wait: " + of_n + "cases recovered within " + Minutes(worst);
      a.evidence_text = "recovered by themselves: " + JoinShort(a.evidence);
    } else if (action == "none") {
      a.text = "no action: the most similar past deployments stayed healthy";
      a.evidence_text = std::to_string(n) + " similar healthy deployments: " + JoinShort(a.evidence);
    } else {
      std::string note;
      for (auto* c : v.cases)
        if (c->outcome.detail.contains("note")) note = c->outcome.detail.value("note", "");
      a.text = action + (note.empty() ? "" : ": " + note);
      a.evidence_text = of_n + "cases were resolved this way: " + JoinShort(a.evidence);
    }
    rec.actions.push_back(std::move(a));
  }
  std::sort(rec.actions.begin(), rec.actions.end(), [](const RankedAction& x, const RankedAction& y) {
    return x.score != y.score ? x.score > y.score : x.action < y.action;
  });
  if (!rec.actions.empty() && rec.actions[0].action != "none" &&
      rec.actions[0].confidence >= options_.confidence) {
    rec.confident = true;
    rec.summary = rec.actions[0].text + " — " + rec.actions[0].evidence_text;
  } else if (rec.actions.empty()) {
    rec.summary = "no confident recommendation: no similar past situation (similarity >= " +
                  std::to_string(options_.min_similarity).substr(0, 4) + ") with a known outcome";
  } else {
    rec.summary = "no confident recommendation: the similar past situations disagree or are distant";
  }
  return rec;
}

Result<Recommendation> LearnEngine::RecommendForDeployment(const Uuid& deployment) {
  ASSIGN_OR_RETURN(ledger::Deployment d, ledger_->GetDeployment(deployment));
  ASSIGN_OR_RETURN(auto row, store_->GetSituation(deployment.ToString()));
  SituationRow r;
  if (row) {
    r = *row;
  } else {
    r.deployment_id = deployment.ToString();
    r.environment = d.environment;
    r.commit_sha = d.commit_sha;
    r.time_ms = d.started_at_ms;
  }
  ASSIGN_OR_RETURN(SituationFeatures f, Features(r));
  ASSIGN_OR_RETURN(Recommendation rec, RecommendFor(f, d, "deployment " + d.id.ToString()));
  if (!row) rec.summary += " (no logs ingested for this deployment: clawback learn ingest --deployment " +
                           d.id.ToString() + " FILE)";
  return rec;
}

Result<Recommendation> LearnEngine::RecommendForConversation(const Uuid& conversation) {
  ASSIGN_OR_RETURN(ledger::Trace t, ledger_->GetTrace(conversation));
  if (t.deployments.empty())
    return NotFound("conversation " + conversation.ToString() + " has no deployments");
  const auto& latest = *std::max_element(t.deployments.begin(), t.deployments.end(),
                                         [](const auto& a, const auto& b) { return a.started_at_ms < b.started_at_ms; });
  return RecommendForDeployment(latest.id);
}

Result<Json> LearnEngine::Risk(const std::string& environment, int limit) {
  ASSIGN_OR_RETURN(auto rows, store_->ListSituations());
  struct Tally {
    int64_t deployments = 0, failures = 0;
    std::vector<std::string> examples;
  };
  std::map<std::string, Tally> paths;
  std::map<uint64_t, Tally> tmpls;
  int64_t deployments = 0, incidents = 0;
  ledger::DeploymentFilter filter;
  filter.environment = environment;
  filter.limit = 10000;
  ASSIGN_OR_RETURN(auto deps, ledger_->ListDeployments(filter));
  std::map<std::string, const SituationRow*> by_id;
  for (const auto& r : rows) by_id[r.deployment_id] = &r;
  for (const auto& d : deps) {
    ++deployments;
    ASSIGN_OR_RETURN(Outcome o, OutcomeOf(d));
    const bool bad = o.incident();
    if (bad) ++incidents;
    SituationRow r;
    auto it = by_id.find(d.id.ToString());
    if (it != by_id.end()) r = *it->second;
    r.deployment_id = d.id.ToString();
    ASSIGN_OR_RETURN(SituationFeatures f, Features(r));
    for (const auto& p : f.paths) {
      auto& t = paths[p];
      ++t.deployments;
      if (bad) {
        ++t.failures;
        t.examples.push_back(d.id.ToString());
      }
    }
    for (uint64_t id : f.error_templates) {
      auto& t = tmpls[id];
      ++t.deployments;
      if (bad) {
        ++t.failures;
        t.examples.push_back(d.id.ToString());
      }
    }
  }
  auto rank = [&](auto& m) {
    std::vector<std::pair<double, typename std::decay_t<decltype(m)>::key_type>> v;
    for (auto& [k, t] : m)
      if (t.failures > 0)
        v.emplace_back(static_cast<double>(t.failures) + static_cast<double>(t.failures) / t.deployments, k);
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.first > b.first; });
    if (v.size() > static_cast<size_t>(limit)) v.resize(static_cast<size_t>(limit));
    return v;
  };
  Json j = {{"environment", environment}, {"deployments", deployments}, {"incidents", incidents}};
  j["paths"] = Json::array();
  for (auto& [score, p] : rank(paths)) {
    auto& t = paths[p];
    j["paths"].push_back({{"path", p}, {"deployments", t.deployments}, {"failures", t.failures},
                          {"failure_rate", static_cast<double>(t.failures) / t.deployments},
                          {"examples", std::vector<std::string>(t.examples.begin(), t.examples.begin() + std::min<size_t>(3, t.examples.size()))}});
  }
  j["templates"] = Json::array();
  for (auto& [score, id] : rank(tmpls)) {
    auto& t = tmpls[id];
    auto tt = templates_.find(id);
    j["templates"].push_back({{"id", "T" + std::to_string(id)},
                              {"template", tt == templates_.end() ? std::string() : tt->second.text},
                              {"deployments", t.deployments}, {"failures", t.failures},
                              {"failure_rate", static_cast<double>(t.failures) / t.deployments},
                              {"examples", std::vector<std::string>(t.examples.begin(), t.examples.begin() + std::min<size_t>(3, t.examples.size()))}});
  }
  return j;
}

}  // namespace clawback::learn
