// The learning system as `clawback serve` and the CLI's direct mode use it: an engine
// opened for each call over the ledger (so advice sees what another process's `learn
// ingest` added meanwhile, the index files being the source of truth, and a broken [learn]
// config fails those calls, not the daemon), calls serialised.
//
// Thread-safety: every method may be called from many threads; calls run one at a time.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/status.h"
#include "learn/engine.h"
#include "ledger/ledger.h"

namespace clawback::service {

class LearnService {
 public:
  // [learn] of `config` (read now; a bad one is every call's error). The ledger must outlive
  // the service.
  LearnService(const Config& config, ledger::Ledger* ledger)
      : options_(learn::LearnOptionsFromConfig(config)), ledger_(ledger) {}

  // Runs `fn` with an engine opened now (the engine's open error otherwise).
  Result<nlohmann::json> With(const std::function<Result<nlohmann::json>(learn::LearnEngine&)>& fn);

  // Advice for a deployment (record/routes.h RouteDeps::recommendations: a failed health
  // check records it). The function keeps the service alive.
  static std::function<Result<nlohmann::json>(const Uuid&)> RecommendationsFn(
      std::shared_ptr<LearnService> service);

  ledger::Ledger* ledger() const { return ledger_; }

 private:
  std::mutex mu_;
  const Result<learn::LearnOptions> options_;
  ledger::Ledger* const ledger_;
};

}  // namespace clawback::service
