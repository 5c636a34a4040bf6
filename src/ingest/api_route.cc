#include "ingest/api_route.h"

#include <algorithm>
#include <regex>

namespace clawback::ingest {

const ApiRoute* FindApiRoute(const std::vector<ApiRoute>& routes, const std::string& method,
                             const std::string& path, std::vector<std::string>* params) {
  for (const auto& r : routes) {
    if (r.method != method) continue;
    std::smatch m;
    if (!std::regex_match(path, m, std::regex(r.pattern))) continue;
    params->clear();
    for (size_t i = 1; i < m.size(); ++i) params->push_back(m[i].str());
    return &r;
  }
  return nullptr;
}

Result<nlohmann::json> CallDirect(const std::vector<ApiRoute>& routes, const std::string& method,
                                  const std::string& path,
                                  const std::map<std::string, std::string>& query,
                                  nlohmann::json body, const std::string& actor) {
  ApiRequest req;
  const ApiRoute* route = FindApiRoute(routes, method, path, &req.params);
  if (!route) return Internal("no API route for " + method + " " + path);
  if (route->takes_body && !body.is_object()) return InvalidArgument("body must be a JSON object");
  req.query = query;
  req.body = std::move(body);
  req.actor = actor;
  std::string field;
  auto answer = route->handle(req, &field);
  if (!answer.ok() && !field.empty())
    return Status(answer.status().code(), answer.status().message() + " (field " + field + ")");
  return answer;
}

Status QueryInt(const ApiRequest& req, const std::string& key, int min, int max, int* out,
                std::string* field) {
  auto it = req.query.find(key);
  if (it == req.query.end()) return Status::Ok();
  const std::string& v = it->second;
  bool digits = !v.empty() && v.size() <= 9 && std::all_of(v.begin(), v.end(), ::isdigit);
  if (!digits || std::stoi(v) < min || std::stoi(v) > max) {
    *field = key;
    return InvalidArgument(key + " must be a number from " + std::to_string(min) + " to " +
                           std::to_string(max));
  }
  *out = std::stoi(v);
  return Status::Ok();
}

Result<Uuid> ParseUuidParam(const std::string& text, const std::string& key, const std::string& what,
                            std::string* field) {
  std::optional<Uuid> id = Uuid::Parse(text);
  if (!id) {
    *field = key;
    return InvalidArgument("\"" + text + "\" is not a " + what + " (a UUID)");
  }
  return *id;
}

}  // namespace clawback::ingest
