// The API routes that need more than the ledger (ingest/api_route.h): what `clawback
// serve` answers and what the CLI's direct mode computes with the same handlers.
//
//   GET  /v1/deployments?environment=&limit=        viewer  {"deployments": [… + "outcome"]}
//   GET  /v1/deployments/{id}                      viewer  the deployment, "outcome", "events"
//   GET  /v1/recommendations?deployment=ID         viewer  advice (learn/engine.h Recommendation)
//   GET  /v1/recommendations?conversation=ID       viewer  advice for its latest deployment
//   POST /v1/recommendations                       viewer  advice for log lines:
//        {"lines": [...], "source"?: "app.log", "environment"?: "prod"}
//   GET  /v1/risk?environment=NAME&limit=N         viewer  pre-deploy risk (paths, templates)
//   POST /v1/learn/logs                            ingest  feed a deployment's logs:
//        {"deployment_id", "lines": [...], "source"?} or {"deployment_id", "loki": true};
//        answers the IngestReport + "source", "index", "indexed"
//   GET  /v1/tokens                                admin   {"tokens": [record/tokens.h TokenToJson]}
//
// Thread-safety: the table is immutable; handlers serialise through LearnService.
#pragma once

#include <memory>
#include <vector>

#include "ingest/api_route.h"
#include "ledger/ledger.h"
#include "service/learn_service.h"

namespace clawback::service {

struct ApiDeps {
  ledger::Ledger* ledger = nullptr;
  std::shared_ptr<LearnService> learn;  // over the same ledger
};

std::vector<ingest::ApiRoute> ApiRoutes(const ApiDeps& deps);

// The most log bytes one POST /v1/learn/logs carries from the CLI (well under the
// server's default 1 MiB body limit); longer logs go in several requests.
inline constexpr size_t kLogChunkBytes = 256 * 1024;

}  // namespace clawback::service
