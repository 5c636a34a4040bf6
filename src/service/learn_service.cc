#include "service/learn_service.h"

namespace clawback::service {

Result<nlohmann::json> LearnService::With(
    const std::function<Result<nlohmann::json>(learn::LearnEngine&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!options_.ok()) return options_.status();
  ASSIGN_OR_RETURN(auto engine, learn::LearnEngine::Open(*options_, ledger_));
  return fn(*engine);
}

std::function<Result<nlohmann::json>(const Uuid&)> LearnService::RecommendationsFn(
    std::shared_ptr<LearnService> service) {
  return [service](const Uuid& id) -> Result<nlohmann::json> {
    return service->With([&id](learn::LearnEngine& e) -> Result<nlohmann::json> {
      ASSIGN_OR_RETURN(learn::Recommendation rec, e.RecommendForDeployment(id));
      return rec.ToJson();
    });
  };
}

}  // namespace clawback::service
