#include "learn/engine.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <cstdlib>
#include <set>

#include "learn/index/hnsw_index.h"
#include "learn/templates/pipeline.h"
#include "learn/templates/state.h"

namespace clawback::learn {

using Json = nlohmann::json;

struct LearnEngine::Miner {
  std::string state_path;
  std::unique_ptr<TemplatePipeline> pipe;
};

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

std::vector<std::string> StringList(const Json& j) {
  std::vector<std::string> out;
  if (j.is_string()) out.push_back(j.get<std::string>());
  if (j.is_array())
    for (const auto& x : j)
      if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

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

Json IngestReport::ToJson() const {
  return {{"deployment_id", deployment_id}, {"lines", lines},       {"templates", templates},
          {"new_templates", new_templates}, {"total_lines", total_lines}, {"reindexed", reindexed}};
}

Result<LearnOptions> LearnOptionsFromConfig(const Config& config) {
  LearnOptions o;
  o.dir = config.data_dir() + "/learn";
  ConfigSection s = config.Section("learn");
  ASSIGN_OR_RETURN(o.index, s.GetString("index", "hnsw"));
  if (o.index != "hnsw" && o.index != "qdrant")
    return s.Error("index", "expected \"hnsw\" or \"qdrant\", got \"" + o.index + "\"");
  ASSIGN_OR_RETURN(int64_t dim, s.GetInt("dimension", 256));
  if (dim < 8 || dim > 8192) return s.Error("dimension", "must be from 8 to 8192");
  o.vectorizer.dimension = static_cast<int>(dim);
  ASSIGN_OR_RETURN(int64_t k, s.GetInt("neighbors", 10));
  if (k < 1 || k > 1000) return s.Error("neighbors", "must be from 1 to 1000");
  o.neighbors = static_cast<int>(k);
  ASSIGN_OR_RETURN(o.min_similarity, s.GetDouble("min_similarity", 0.3));
  ASSIGN_OR_RETURN(o.confidence, s.GetDouble("confidence", 0.5));
  if (o.min_similarity < 0 || o.min_similarity > 1) return s.Error("min_similarity", "must be in [0, 1]");
  if (o.confidence < 0 || o.confidence > 1) return s.Error("confidence", "must be in [0, 1]");
  ConfigSection q = s.Sub("qdrant");
  ASSIGN_OR_RETURN(o.qdrant.url, q.GetString("url", o.qdrant.url));
  ASSIGN_OR_RETURN(o.qdrant.collection, q.GetString("collection", o.qdrant.collection));
  ASSIGN_OR_RETURN(std::string key_env, q.GetString("api_key_env", ""));
  if (!key_env.empty()) {
    const char* v = std::getenv(key_env.c_str());
    if (!v || !*v) return q.Error("api_key_env", "$" + key_env + " is not set");
    o.qdrant.api_key = v;
  }
  o.qdrant.dimension = static_cast<size_t>(dim);
  ConfigSection l = s.Sub("loki");
  ASSIGN_OR_RETURN(o.loki.url, l.GetString("url", ""));
  ASSIGN_OR_RETURN(o.loki.query, l.GetString("query", "{environment=\"$environment\"}"));
  ASSIGN_OR_RETURN(o.loki.tenant, l.GetString("tenant", ""));
  ASSIGN_OR_RETURN(o.loki.limit, l.GetInt("limit", 5000));
  return o;
}

LearnEngine::LearnEngine(LearnOptions options, ledger::Ledger* ledger, const Clock& clock)
    : options_(std::move(options)), ledger_(ledger), clock_(clock) {}
LearnEngine::~LearnEngine() {
  index_.reset();
  store_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Result<std::unique_ptr<LearnEngine>> LearnEngine::Open(const LearnOptions& options,
                                                       ledger::Ledger* ledger, const Clock& clock,
                                                       std::unique_ptr<VectorIndex> index) {
  std::unique_ptr<LearnEngine> e(new LearnEngine(options, ledger, clock));
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return IOError("create " + options.dir + ": " + ec.message());
  const std::string lock_path = options.dir + "/lock";
  e->lock_fd_ = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (e->lock_fd_ < 0) return ErrnoStatus("open " + lock_path, errno);
  while (::flock(e->lock_fd_, LOCK_EX) != 0) {
    if (errno != EINTR) return ErrnoStatus("lock " + lock_path, errno);
  }
  ASSIGN_OR_RETURN(e->store_, LearnStore::Open(options.dir + "/learn.db"));
  if (index) {
    e->index_ = std::move(index);
  } else if (options.index == "qdrant") {
    QdrantOptions q = options.qdrant;
    q.dimension = static_cast<size_t>(options.vectorizer.dimension);
    ASSIGN_OR_RETURN(auto qi, QdrantIndex::Open(q, http::NewClient({.timeout = std::chrono::seconds(10)})));
    e->index_ = std::move(qi);
  } else {
    HnswOptions h;
    h.dir = options.dir + "/index";
    h.dimension = static_cast<size_t>(options.vectorizer.dimension);
    ASSIGN_OR_RETURN(auto hi, HnswIndex::Open(h));
    e->index_ = std::move(hi);
  }
  if (e->index_->dimension() != static_cast<size_t>(options.vectorizer.dimension))
    return FailedPrecondition("learn: the index dimension differs from [learn] dimension");
  e->miner_ = std::make_unique<Miner>();
  e->miner_->state_path = options.dir + "/situation-templates.json";
  ASSIGN_OR_RETURN(Masker masker, Masker::Create(MaskOptions{}));
  ASSIGN_OR_RETURN(TemplateMiner miner, LoadTemplateState(e->miner_->state_path, MinerOptions{}));
  e->miner_->pipe = std::make_unique<TemplatePipeline>(std::nullopt, std::move(masker), std::move(miner));
  RETURN_IF_ERROR(e->LoadDocFreq());
  ASSIGN_OR_RETURN(e->templates_, e->store_->Templates());
  return e;
}

Status LearnEngine::LoadDocFreq() {
  ASSIGN_OR_RETURN(auto text, store_->GetMeta("docfreq"));
  df_ = DocFreq{};
  if (!text) return Status::Ok();
  Json j = Json::parse(*text, nullptr, false);
  if (!j.is_object()) return Corruption(options_.dir + "/learn.db: meta docfreq is not JSON");
  df_.documents = j.value("documents", int64_t{0});
  if (j.contains("df") && j["df"].is_object())
    for (auto it = j["df"].begin(); it != j["df"].end(); ++it)
      df_.df[std::stoull(it.key())] = it.value().get<int64_t>();
  return Status::Ok();
}

Result<SituationFeatures> LearnEngine::Features(const SituationRow& row) {
  SituationFeatures f;
  f.id = row.deployment_id;
  f.environment = row.environment;
  f.commit_sha = row.commit_sha;
  f.time_ms = row.time_ms;
  f.template_counts = row.counts;
  for (const auto& [id, n] : row.counts) {
    auto it = templates_.find(id);
    if (it != templates_.end() && it->second.is_error) f.error_templates.insert(id);
  }
  if (auto id = Uuid::Parse(row.deployment_id); id && ledger_) {
    auto d = ledger_->GetDeployment(*id);
    if (d.ok()) {
      for (const char* k : {"paths", "path", "files"})
        for (auto& p : StringList(d->attributes.value(k, Json()))) f.paths.push_back(p);
      for (const char* k : {"services", "service"})
        for (auto& s : StringList(d->attributes.value(k, Json()))) f.services.push_back(s);
      if (!d->commit_sha.empty()) {
        auto c = ledger_->GetCommit(d->commit_sha);
        if (c.ok() && c->has_value())
          for (const auto& p : (*c)->files) f.paths.push_back(p);
      }
      if (d->conversation_id) {
        auto t = ledger_->GetTrace(*d->conversation_id);
        if (t.ok())
          for (const auto& fc : t->file_changes)
            if (fc.time_ms <= d->started_at_ms || d->started_at_ms == 0) f.paths.push_back(fc.path);
      }
    } else if (d.status().code() != StatusCode::kNotFound) {
      return d.status();
    }
  }
  std::sort(f.paths.begin(), f.paths.end());
  f.paths.erase(std::unique(f.paths.begin(), f.paths.end()), f.paths.end());
  return f;
}

Status LearnEngine::UpsertSituation(const SituationRow& row) {
  ASSIGN_OR_RETURN(SituationFeatures f, Features(row));
  auto v = Vectorize(f, df_, options_.vectorizer);
  Json payload = {{"environment", row.environment}, {"commit_sha", row.commit_sha}, {"time_ms", row.time_ms}};
  return index_->Upsert(row.deployment_id, v, payload);
}

Status LearnEngine::Reindex() {
  ASSIGN_OR_RETURN(auto rows, store_->ListSituations());
  DocFreq df;
  df.documents = static_cast<int64_t>(rows.size());
  for (const auto& r : rows)
    for (const auto& [id, n] : r.counts)
      if (n > 0) ++df.df[id];
  Json j = {{"documents", df.documents}, {"df", Json::object()}};
  for (auto [id, n] : df.df) j["df"][std::to_string(id)] = n;
  RETURN_IF_ERROR(store_->SetMeta("docfreq", j.dump()));
  df_ = std::move(df);
  for (const auto& r : rows) RETURN_IF_ERROR(UpsertSituation(r));
  return index_->Flush();
}

Result<IngestReport> LearnEngine::Ingest(const Uuid& deployment, const std::vector<std::string>& lines,
                                         const std::string& source) {
  ASSIGN_OR_RETURN(ledger::Deployment d, ledger_->GetDeployment(deployment));
  ASSIGN_OR_RETURN(auto existing, store_->GetSituation(deployment.ToString()));
  SituationRow row = existing ? *existing : SituationRow{};
  row.deployment_id = deployment.ToString();
  row.environment = d.environment;
  row.commit_sha = d.commit_sha;
  row.time_ms = d.started_at_ms;
  IngestReport rep;
  rep.deployment_id = row.deployment_id;
  const size_t known = miner_->pipe->miner().size();
  std::set<uint64_t> seen;
  for (std::string_view line : lines) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    uint64_t id = miner_->pipe->AddLine(line);
    ++row.counts[id];
    seen.insert(id);
    ++rep.lines;
  }
  rep.templates = static_cast<int64_t>(seen.size());
  rep.new_templates = static_cast<int64_t>(miner_->pipe->miner().size() - known);
  row.lines += rep.lines;
  rep.total_lines = row.lines;
  if (std::find(row.sources.begin(), row.sources.end(), source) == row.sources.end())
    row.sources.push_back(source);
  row.updated_at_ms = clock_.NowUnixMillis();
  RETURN_IF_ERROR(SaveTemplateState(miner_->state_path, miner_->pipe->miner()));
  // Template texts generalise as lines arrive: refresh every one this situation uses.
  std::vector<TemplateRow> trows;
  for (const auto& [id, n] : row.counts) {
    std::string text = miner_->pipe->miner().TemplateText(id);
    TemplateRow t{id, text, IsErrorTemplate(text)};
    templates_[id] = t;
    trows.push_back(std::move(t));
  }
  RETURN_IF_ERROR(store_->PutTemplates(trows));
  RETURN_IF_ERROR(store_->PutSituation(row));
  ASSIGN_OR_RETURN(const int64_t n, store_->CountSituations());
  if (df_.documents == 0 || n > df_.documents + df_.documents / 4 + 4) {
    RETURN_IF_ERROR(Reindex());
    rep.reindexed = true;
  } else {
    RETURN_IF_ERROR(UpsertSituation(row));
    RETURN_IF_ERROR(index_->Flush());
  }
  return rep;
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

Result<Recommendation> LearnEngine::RecommendForLines(const std::vector<std::string>& lines,
                                                      const std::string& subject,
                                                      const std::string& environment) {
  SituationFeatures f;
  f.id = "log:" + subject;
  f.environment = environment;
  f.time_ms = clock_.NowUnixMillis();
  for (std::string_view line : lines) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    uint64_t id = miner_->pipe->AddLine(line);
    ++f.template_counts[id];
  }
  for (const auto& [id, n] : f.template_counts) {
    std::string text = miner_->pipe->miner().TemplateText(id);
    if (!templates_.count(id)) templates_[id] = TemplateRow{id, text, IsErrorTemplate(text)};
    if (IsErrorTemplate(text)) f.error_templates.insert(id);
  }
  return RecommendFor(f, std::nullopt, "log " + subject);
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

Result<std::vector<std::string>> LearnEngine::FetchLoki(const ledger::Deployment& d, http::Client* http) {
  if (options_.loki.url.empty())
    return FailedPrecondition("Loki intake is not configured ([learn.loki] url in config.toml)");
  std::string q = options_.loki.query;
  auto subst = [&](const std::string& var, const std::string& val) {
    for (size_t p; (p = q.find(var)) != std::string::npos;) q.replace(p, var.size(), val);
  };
  subst("$environment", d.environment);
  subst("$deployment", d.id.ToString());
  auto enc = [](const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out.push_back(static_cast<char>(c));
      } else {
        char b[4];
        std::snprintf(b, sizeof b, "%%%02X", c);
        out += b;
      }
    }
    return out;
  };
  int64_t start_ns = (d.started_at_ms - 5 * 60 * 1000) * 1000000;
  int64_t end_ms = d.finished_at_ms.value_or(clock_.NowUnixMillis());
  end_ms = std::max(end_ms, d.started_at_ms + 15 * 60 * 1000);
  std::string base = options_.loki.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  http::Request r;
  r.method = "GET";
  r.url = base + "/loki/api/v1/query_range?query=" + enc(q) + "&start=" + std::to_string(start_ns) +
          "&end=" + std::to_string(end_ms * 1000000) + "&limit=" + std::to_string(options_.loki.limit) +
          "&direction=forward";
  if (!options_.loki.tenant.empty()) r.headers.emplace_back("X-Scope-OrgID", options_.loki.tenant);
  ASSIGN_OR_RETURN(http::Response resp, http->Send(r));
  if (resp.status != 200)
    return Unavailable("loki query_range: HTTP " + std::to_string(resp.status) + ": " + resp.body.substr(0, 200));
  Json j = Json::parse(resp.body, nullptr, false);
  if (!j.is_object() || !j.contains("data") || !j["data"].contains("result") || !j["data"]["result"].is_array())
    return Unavailable("loki query_range: the answer has no data.result");
  std::vector<std::pair<std::string, std::string>> entries;  // (ns timestamp, line)
  for (const auto& stream : j["data"]["result"]) {
    if (!stream.contains("values") || !stream["values"].is_array()) continue;
    for (const auto& v : stream["values"])
      if (v.is_array() && v.size() >= 2 && v[0].is_string() && v[1].is_string())
        entries.emplace_back(v[0].get<std::string>(), v[1].get<std::string>());
  }
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.first.size() != b.first.size() ? a.first.size() < b.first.size() : a.first < b.first;
  });
  std::vector<std::string> lines;
  for (auto& e : entries) lines.push_back(std::move(e.second));
  return lines;
}

Result<std::unique_ptr<LearnEngine>> OpenLearnEngine(const Config& config, ledger::Ledger* ledger) {
  ASSIGN_OR_RETURN(LearnOptions o, LearnOptionsFromConfig(config));
  return LearnEngine::Open(o, ledger);
}

}  // namespace clawback::learn
