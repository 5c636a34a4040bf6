// The API's other routes: requests that are not ledger writes (record/routes.h has those)
// but need more than the ledger to answer — the learning system's advice, a deployment's
// outcome, the token list. The service layer builds them (service/api_routes.h);
// `clawback serve` registers them next to its own reads, and the CLI's direct mode calls
// the very same handlers in-process (CallDirect), so a command prints the same document
// with or without --server.
//
// Thread-safety: a route table is immutable once built; handlers may run on many threads
// at once and must serialise what they share.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "ledger/ledger.h"

namespace clawback::ingest {

struct ApiRequest {
  std::vector<std::string> params;           // the pattern's groups, in order
  std::map<std::string, std::string> query;  // ?key=value (the first of a repeated key)
  nlohmann::json body;                       // null when the route takes none
  std::string actor;                         // the token's name; "cli" in direct mode
};

// An error answer names the field it is about in *field ("deployment", "lines", …).
using ApiHandler = std::function<Result<nlohmann::json>(const ApiRequest& req, std::string* field)>;

struct ApiRoute {
  std::string method;   // "GET" or "POST"
  std::string pattern;  // a regex over the path; groups are the params
  std::string name;     // as metrics and docs name it: "/v1/deployments/{id}"
  ledger::Role role = ledger::Role::kViewer;
  bool takes_body = false;  // POST with a JSON object body
  ApiHandler handle;
};

// The route for `method` and `path`, its captures in *params; nullptr when none matches.
const ApiRoute* FindApiRoute(const std::vector<ApiRoute>& routes, const std::string& method,
                             const std::string& path, std::vector<std::string>* params);

// The answer a server would send for the request, computed in this process: the handler's
// document, or its error with " (field F)" appended, as the CLI shows a server's errors.
Result<nlohmann::json> CallDirect(const std::vector<ApiRoute>& routes, const std::string& method,
                                  const std::string& path,
                                  const std::map<std::string, std::string>& query,
                                  nlohmann::json body, const std::string& actor = "cli");

// Query-parameter readers shared by the handlers: a missing key leaves *out untouched. On a
// bad value they return InvalidArgument naming the key and set *field to it.
Status QueryInt(const ApiRequest& req, const std::string& key, int min, int max, int* out,
                std::string* field);
// A UUID parameter; `what` names it in the error ("deployment id").
Result<Uuid> ParseUuidParam(const std::string& text, const std::string& key, const std::string& what,
                            std::string* field);

}  // namespace clawback::ingest
