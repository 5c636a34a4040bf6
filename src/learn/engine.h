// LearnEngine: situations in, advice out. It ties the template miner (templates/), the
// learn state (store.h), a VectorIndex (index/) and the ledger together:
//
//   Ingest(deployment, lines)   mine the lines, add the counts to the deployment's
//                               situation, (re)vectorise it and upsert it in the index
//   OutcomeOf(deployment)       what happened after it, read from the ledger:
//       rolled_back      a RollbackRecord targets the deployment (target_kind "deployment"),
//                        or its conversation after it started, or its status is rolled_back
//       resolved         a "deployment.resolution" event names the action that worked
//                        (revert_commit, restore_file, wait, fix_forward)
//       recovered        a health check failed, a later one passed, nothing was done (wait)
//       fixed_by_commit  it failed and the next deployment of the environment, with another
//                        commit, succeeded with no failed check (revert_commit)
//       failed           it failed and nothing above resolved it (yet)
//       healthy          no failed check, not failed
//   Recommend(...)              the nearest past situations (cosine similarity) and the
//                               actions that resolved them, ranked by similarity-weighted
//                               votes, each with its evidence, phrased for this deployment
//   Risk(environment)           paths and error templates historically linked to failures
//
// Vectors use a frozen document-frequency snapshot; the engine re-snapshots and
// re-vectorises everything (Reindex) when the number of situations has grown by a quarter
// since, so inserts stay incremental and the idf stays current.
//
// Thread-safety: not thread-safe; the server serialises calls with a mutex. Across
// processes, an engine holds an exclusive flock on <dir>/lock from Open to destruction, so
// two `learn ingest` runs never overwrite each other's miner state or index files.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/config.h"
#include "common/status.h"
#include "common/uuid.h"
#include "http/client.h"
#include "learn/index/qdrant_index.h"
#include "learn/index/vector_index.h"
#include "learn/situation.h"
#include "learn/store.h"
#include "ledger/ledger.h"

namespace clawback::learn {

struct LokiOptions {
  std::string url;    // empty: Loki intake off
  std::string query;  // LogQL; "$environment" and "$deployment" are substituted
  std::string tenant; // X-Scope-OrgID, optional
  int64_t limit = 5000;
};

struct LearnOptions {
  std::string dir;       // <data dir>/learn
  std::string index = "hnsw";  // "hnsw" | "qdrant"
  VectorizerOptions vectorizer;
  QdrantOptions qdrant;
  LokiOptions loki;
  int neighbors = 10;
  double min_similarity = 0.3;  // neighbours below this do not vote
  double confidence = 0.5;      // a top action at or above this is "confident"
};

// The [learn] section (docs in DefaultConfigText and docs/user-guide learn section):
//   index = "hnsw" | "qdrant", dimension, neighbors, min_similarity, confidence,
//   [learn.qdrant] url, collection, api_key_env; [learn.loki] url, query, tenant, limit.
Result<LearnOptions> LearnOptionsFromConfig(const Config& config);

struct Outcome {
  std::string label = "healthy";  // healthy, rolled_back, resolved, recovered, fixed_by_commit, failed, pending
  std::string action = "none";    // rollback, revert_commit, restore_file, wait, fix_forward, none
  nlohmann::json detail = nlohmann::json::object();
  std::optional<int64_t> resolved_after_ms;  // from the first failure to the resolution
  bool incident() const { return label != "healthy" && label != "pending"; }
  bool resolved() const { return incident() && label != "failed"; }
  nlohmann::json ToJson() const;
};

struct SimilarCase {
  std::string deployment_id;
  float score = 0;
  std::string environment;
  std::string commit_sha;
  int64_t time_ms = 0;
  Outcome outcome;
};

struct RankedAction {
  std::string action;  // rollback, revert_commit, restore_file, wait, fix_forward, none
  std::string text;    // phrased for the situation at hand
  double score = 0;    // similarity-weighted share of the voting neighbours
  double confidence = 0;
  std::vector<std::string> evidence;  // the deployments it worked for
  std::string evidence_text;
};

struct Recommendation {
  std::string subject;  // "deployment <id>", "log <file>"
  std::optional<std::string> deployment_id;
  std::vector<std::string> error_templates;  // the subject's own error/warning lines
  std::vector<SimilarCase> similar;
  std::vector<RankedAction> actions;
  bool confident = false;
  std::string summary;
  nlohmann::json ToJson() const;
};

struct IngestReport {
  std::string deployment_id;
  int64_t lines = 0;
  int64_t templates = 0;       // distinct templates in these lines
  int64_t new_templates = 0;   // first seen now
  int64_t total_lines = 0;     // the situation's lines so far
  bool reindexed = false;
  nlohmann::json ToJson() const;
};

class LearnEngine {
 public:
  // `index` overrides the configured one (tests). The ledger must outlive the engine.
  static Result<std::unique_ptr<LearnEngine>> Open(const LearnOptions& options,
                                                   ledger::Ledger* ledger,
                                                   const Clock& clock = SystemClock(),
                                                   std::unique_ptr<VectorIndex> index = nullptr);
  ~LearnEngine();

  // NotFound when the deployment is not in the ledger.
  Result<IngestReport> Ingest(const Uuid& deployment, const std::vector<std::string>& lines,
                              const std::string& source);
  // Lines for a deployment from Loki's query_range over [start - 5 min, finish or now].
  // FailedPrecondition when [learn.loki] is not configured.
  Result<std::vector<std::string>> FetchLoki(const ledger::Deployment& d, http::Client* http);

  Result<Outcome> OutcomeOf(const ledger::Deployment& d);
  Result<Recommendation> RecommendForDeployment(const Uuid& deployment);
  // The latest deployment of the conversation; NotFound when it has none.
  Result<Recommendation> RecommendForConversation(const Uuid& conversation);
  // Lines not tied to a deployment (mined read-only: no state changes).
  Result<Recommendation> RecommendForLines(const std::vector<std::string>& lines,
                                           const std::string& subject,
                                           const std::string& environment);
  Result<nlohmann::json> Risk(const std::string& environment, int limit = 10);

  // Re-snapshots document frequencies and re-vectorises every situation.
  Status Reindex();
  Result<size_t> IndexSize() { return index_->Size(); }
  VectorIndex& index() { return *index_; }

 private:
  struct Miner;
  LearnEngine(LearnOptions options, ledger::Ledger* ledger, const Clock& clock);
  Result<SituationFeatures> Features(const SituationRow& row);
  Status LoadDocFreq();
  Status UpsertSituation(const SituationRow& row);
  Result<Recommendation> RecommendFor(const SituationFeatures& f,
                                      const std::optional<ledger::Deployment>& d,
                                      const std::string& subject);
  std::vector<std::string> ErrorTexts(const SituationFeatures& f, size_t limit);

  LearnOptions options_;
  ledger::Ledger* ledger_;
  const Clock& clock_;
  std::unique_ptr<LearnStore> store_;
  std::unique_ptr<VectorIndex> index_;
  std::unique_ptr<Miner> miner_;
  DocFreq df_;
  std::map<uint64_t, TemplateRow> templates_;
  int lock_fd_ = -1;
};

// Open for a CLI command or the server: options from the config, the data dir's learn dir.
Result<std::unique_ptr<LearnEngine>> OpenLearnEngine(const Config& config, ledger::Ledger* ledger);

}  // namespace clawback::learn
