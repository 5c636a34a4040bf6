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

std::vector<std::string> StringList(const Json& j) {
  std::vector<std::string> out;
  if (j.is_string()) out.push_back(j.get<std::string>());
  if (j.is_array())
    for (const auto& x : j)
      if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

}  // namespace

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

Result<std::unique_ptr<LearnEngine>> OpenLearnEngine(const Config& config, ledger::Ledger* ledger) {
  ASSIGN_OR_RETURN(LearnOptions o, LearnOptionsFromConfig(config));
  return LearnEngine::Open(o, ledger);
}

}  // namespace clawback::learn
