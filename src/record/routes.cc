#include "record/routes.h"

#include <regex>

#include "record/tokens.h"

namespace clawback::record {
namespace {

std::string Param(const std::vector<std::string>& params, size_t i) {
  return i < params.size() ? params[i] : std::string();
}

}  // namespace

void ApplyDeclaredActor(const Json& body, RequestInfo* info) {
  if (!body.is_object()) return;
  auto it = body.find("actor");
  if (it != body.end() && it->is_string() && !it->get<std::string>().empty() &&
      it->get<std::string>().size() <= 128)
    info->actor = it->get<std::string>();
}

std::vector<WriteRoute> WriteRoutes(const RouteDeps& deps) {
  using ledger::Role;
  std::vector<WriteRoute> r;
  r.push_back({"POST", "/v1/openclaw/events", "/v1/openclaw/events", 200, false, Role::kIngest,
               [](Json& body, const std::vector<std::string>&, const RequestInfo& info, PrepareFn* fn,
                  FieldError* err) { return BuildOpenClawJob(std::move(body), info, fn, err); }});
  r.push_back({"POST", "/v1/events", "/v1/events", 200, false, Role::kIngest,
               [](Json& body, const std::vector<std::string>&, const RequestInfo& info, PrepareFn* fn,
                  FieldError* err) { return BuildEventJob(body, info, fn, err); }});
  r.push_back({"POST", "/v1/conversations", "/v1/conversations", 201, false, Role::kIngest,
               [](Json& body, const std::vector<std::string>&, const RequestInfo& info, PrepareFn* fn,
                  FieldError* err) { return BuildConversationStartJob(body, info, fn, err); }});
  r.push_back({"POST", R"(/v1/conversations/([^/]+)/end)", "/v1/conversations/{id}/end", 200, true,
               Role::kIngest,
               [](Json& body, const std::vector<std::string>& p, const RequestInfo& info, PrepareFn* fn,
                  FieldError* err) { return BuildConversationEndJob(Param(p, 0), body, info, fn, err); }});
  r.push_back({"POST", "/v1/commits", "/v1/commits", 201, false, Role::kIngest,
               [](Json& body, const std::vector<std::string>&, const RequestInfo& info, PrepareFn* fn,
                  FieldError* err) { return BuildCommitJob(body, info, fn, err); }});
  r.push_back({"POST", "/v1/deployments", "/v1/deployments", 201, false, Role::kIngest,
               [](Json& body, const std::vector<std::string>&, const RequestInfo& info, PrepareFn* fn,
                  FieldError* err) { return BuildDeploymentCreateJob(body, info, fn, err); }});
  r.push_back({"PATCH", R"(/v1/deployments/([^/]+))", "/v1/deployments/{id}", 200, false, Role::kIngest,
               [](Json& body, const std::vector<std::string>& p, const RequestInfo& info, PrepareFn* fn,
                  FieldError* err) { return BuildDeploymentPatchJob(Param(p, 0), body, info, fn, err); }});
  auto recommend = deps.recommendations;
  r.push_back({"POST", R"(/v1/deployments/([^/]+)/checks)", "/v1/deployments/{id}/checks", 201, false,
               Role::kIngest,
               [recommend](Json& body, const std::vector<std::string>& p, const RequestInfo& info,
                           PrepareFn* fn, FieldError* err) {
                 return BuildDeploymentCheckJob(Param(p, 0), body, info, recommend, fn, err);
               }});
  r.push_back({"POST", R"(/v1/deployments/([^/]+)/resolutions)", "/v1/deployments/{id}/resolutions", 201,
               false, Role::kIngest,
               [](Json& body, const std::vector<std::string>& p, const RequestInfo& info, PrepareFn* fn,
                  FieldError* err) { return BuildDeploymentResolutionJob(Param(p, 0), body, info, fn, err); }});
  SnapshotFn snapshots = deps.snapshots;
  ledger::Ledger* ledger = deps.ledger;
  r.push_back({"POST", "/v1/snapshots", "/v1/snapshots", 201, true, Role::kOperator,
               [snapshots, ledger](Json& body, const std::vector<std::string>&, const RequestInfo& info,
                                   PrepareFn* fn, FieldError* err) {
                 return BuildSnapshotJob(snapshots, ledger, body, info, fn, err);
               }});
  r.push_back({"POST", "/v1/tokens", "/v1/tokens", 201, false, Role::kAdmin,
               [](Json& body, const std::vector<std::string>&, const RequestInfo& info, PrepareFn* fn,
                  FieldError* err) { return BuildTokenCreateJob(body, info, fn, err); }});
  r.push_back({"POST", R"(/v1/tokens/([^/]+)/revoke)", "/v1/tokens/{id}/revoke", 200, true, Role::kAdmin,
               [](Json&, const std::vector<std::string>& p, const RequestInfo& info, PrepareFn* fn,
                  FieldError* err) { return BuildTokenRevokeJob(Param(p, 0), info, fn, err); }});
  return r;
}

const WriteRoute* FindWriteRoute(const std::vector<WriteRoute>& routes, const std::string& method,
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

void RunAfterCommit(Reply* reply, const std::function<Reply(PrepareFn)>& commit) {
  if (!reply->status.ok() || !reply->after_commit) return;
  auto next = reply->after_commit();
  reply->after_commit = nullptr;
  auto warn = [reply](const std::string& w) {
    if (!reply->body.is_object()) return;
    if (!reply->body.contains("warnings")) reply->body["warnings"] = Json::array();
    reply->body["warnings"].push_back(w);
  };
  // What was committed stays committed: a failure here is a warning in the answer.
  if (!next.ok()) return warn(next.status().ToString());
  if (!next->has_value()) return;
  Reply second = commit(std::move(**next));
  if (!second.status.ok()) return warn(second.status.ToString());
  if (second.finish_body) second.finish_body(&second.body);
  if (reply->body.is_object() && second.body.is_object())
    for (auto it = second.body.begin(); it != second.body.end(); ++it) reply->body[it.key()] = it.value();
}

}  // namespace clawback::record
