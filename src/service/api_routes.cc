#include "service/api_routes.h"

#include "http/client.h"
#include "ledger/event_kinds.h"
#include "ledger/trace_json.h"
#include "record/tokens.h"

namespace clawback::service {
namespace {

using ingest::ApiRequest;
using ingest::ApiRoute;
using Json = nlohmann::json;
using ledger::Role;

std::string QueryString(const ApiRequest& req, const std::string& key) {
  auto it = req.query.find(key);
  return it == req.query.end() ? std::string() : it->second;
}

Result<std::vector<std::string>> BodyLines(const Json& body, std::string* field) {
  auto it = body.find("lines");
  if (it == body.end() || !it->is_array()) {
    *field = "lines";
    return InvalidArgument("lines must be an array of strings");
  }
  std::vector<std::string> lines;
  lines.reserve(it->size());
  for (const auto& l : *it) {
    if (!l.is_string()) {
      *field = "lines";
      return InvalidArgument("lines must be an array of strings");
    }
    lines.push_back(l.get<std::string>());
  }
  return lines;
}

Result<std::string> BodyString(const Json& body, const std::string& key, std::string* field) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    *field = key;
    return InvalidArgument(key + " must be a string");
  }
  return it->get<std::string>();
}

Result<Json> DeploymentDocument(ledger::Ledger& l, learn::LearnEngine& e, const ledger::Deployment& d,
                                bool with_events) {
  ASSIGN_OR_RETURN(learn::Outcome o, e.OutcomeOf(d));
  Json j = ledger::DeploymentToJson(d);
  j["outcome"] = o.ToJson();
  if (!with_events) return j;
  Json events = Json::array();
  if (d.conversation_id) {
    ASSIGN_OR_RETURN(auto t, l.GetTrace(*d.conversation_id));
    for (const auto& ev : t.events)
      if ((ev.kind == ledger::kHealthCheck || ev.kind == ledger::kDeploymentResolution) &&
          ev.attributes.is_object() && ev.attributes.contains("deployment_id") &&
          ev.attributes["deployment_id"] == d.id.ToString())
        events.push_back({{"kind", ev.kind}, {"time_ms", ev.time_ms}, {"attributes", ev.attributes}});
  }
  j["events"] = events;
  return j;
}

}  // namespace

std::vector<ApiRoute> ApiRoutes(const ApiDeps& deps) {
  ledger::Ledger* ledger = deps.ledger;
  std::shared_ptr<LearnService> learn = deps.learn;
  auto need_learn = [learn]() -> Status {
    if (learn) return Status::Ok();
    return FailedPrecondition("the learning system is not enabled here");
  };
  std::vector<ApiRoute> r;

  r.push_back({"GET", "/v1/deployments", "/v1/deployments", Role::kViewer, false,
               [ledger, learn, need_learn](const ApiRequest& req, std::string* field) -> Result<Json> {
                 RETURN_IF_ERROR(need_learn());
                 ledger::DeploymentFilter f;
                 f.environment = QueryString(req, "environment");
                 f.limit = 20;
                 RETURN_IF_ERROR(ingest::QueryInt(req, "limit", 1, 10000, &f.limit, field));
                 return learn->With([&](learn::LearnEngine& e) -> Result<Json> {
                   ASSIGN_OR_RETURN(auto list, ledger->ListDeployments(f));
                   Json arr = Json::array();
                   for (const auto& d : list) {
                     ASSIGN_OR_RETURN(Json j, DeploymentDocument(*ledger, e, d, false));
                     arr.push_back(std::move(j));
                   }
                   return Json{{"deployments", arr}};
                 });
               }});
  r.push_back({"GET", R"(/v1/deployments/([^/]+))", "/v1/deployments/{id}", Role::kViewer, false,
               [ledger, learn, need_learn](const ApiRequest& req, std::string* field) -> Result<Json> {
                 RETURN_IF_ERROR(need_learn());
                 ASSIGN_OR_RETURN(Uuid id, ingest::ParseUuidParam(req.params[0], "id", "deployment id", field));
                 return learn->With([&](learn::LearnEngine& e) -> Result<Json> {
                   auto d = ledger->GetDeployment(id);
                   if (!d.ok()) *field = "id";
                   if (!d.ok()) return d.status();
                   return DeploymentDocument(*ledger, e, *d, true);
                 });
               }});
  r.push_back({"GET", "/v1/recommendations", "/v1/recommendations", Role::kViewer, false,
               [learn, need_learn](const ApiRequest& req, std::string* field) -> Result<Json> {
                 RETURN_IF_ERROR(need_learn());
                 std::string dep = QueryString(req, "deployment"), conv = QueryString(req, "conversation");
                 if (dep.empty() == conv.empty()) {
                   *field = "deployment";
                   return InvalidArgument(
                       "give deployment=ID or conversation=ID (POST a body of log lines for advice on a log)");
                 }
                 bool by_dep = !dep.empty();
                 ASSIGN_OR_RETURN(Uuid id, ingest::ParseUuidParam(by_dep ? dep : conv,
                                                                  by_dep ? "deployment" : "conversation",
                                                                  by_dep ? "deployment id" : "conversation id",
                                                                  field));
                 auto answer = learn->With([&](learn::LearnEngine& e) -> Result<Json> {
                   ASSIGN_OR_RETURN(learn::Recommendation rec, by_dep ? e.RecommendForDeployment(id)
                                                                      : e.RecommendForConversation(id));
                   return rec.ToJson();
                 });
                 if (!answer.ok()) *field = by_dep ? "deployment" : "conversation";
                 return answer;
               }});
  r.push_back({"POST", "/v1/recommendations", "/v1/recommendations", Role::kViewer, true,
               [learn, need_learn](const ApiRequest& req, std::string* field) -> Result<Json> {
                 RETURN_IF_ERROR(need_learn());
                 ASSIGN_OR_RETURN(auto lines, BodyLines(req.body, field));
                 ASSIGN_OR_RETURN(std::string source, BodyString(req.body, "source", field));
                 ASSIGN_OR_RETURN(std::string env, BodyString(req.body, "environment", field));
                 return learn->With([&](learn::LearnEngine& e) -> Result<Json> {
                   ASSIGN_OR_RETURN(learn::Recommendation rec, e.RecommendForLines(lines, source, env));
                   return rec.ToJson();
                 });
               }});
  r.push_back({"GET", "/v1/risk", "/v1/risk", Role::kViewer, false,
               [learn, need_learn](const ApiRequest& req, std::string* field) -> Result<Json> {
                 RETURN_IF_ERROR(need_learn());
                 std::string env = QueryString(req, "environment");
                 if (env.empty()) {
                   *field = "environment";
                   return InvalidArgument("environment is required (the environment to assess)");
                 }
                 int limit = 10;
                 RETURN_IF_ERROR(ingest::QueryInt(req, "limit", 1, 1000, &limit, field));
                 return learn->With([&](learn::LearnEngine& e) { return e.Risk(env, limit); });
               }});
  r.push_back({"POST", "/v1/learn/logs", "/v1/learn/logs", Role::kIngest, true,
               [ledger, learn, need_learn](const ApiRequest& req, std::string* field) -> Result<Json> {
                 RETURN_IF_ERROR(need_learn());
                 ASSIGN_OR_RETURN(std::string id_text, BodyString(req.body, "deployment_id", field));
                 ASSIGN_OR_RETURN(Uuid id, ingest::ParseUuidParam(id_text, "deployment_id", "deployment id", field));
                 bool loki = false;
                 if (auto it = req.body.find("loki"); it != req.body.end() && !it->is_null()) {
                   if (!it->is_boolean()) {
                     *field = "loki";
                     return InvalidArgument("loki must be true or false");
                   }
                   loki = it->get<bool>();
                 }
                 std::vector<std::string> lines;
                 std::string source;
                 if (!loki) {
                   ASSIGN_OR_RETURN(lines, BodyLines(req.body, field));
                   ASSIGN_OR_RETURN(source, BodyString(req.body, "source", field));
                   if (source.empty()) source = "api";
                 }
                 auto d = ledger->GetDeployment(id);
                 if (!d.ok()) {
                   *field = "deployment_id";
                   return d.status();
                 }
                 return learn->With([&](learn::LearnEngine& e) -> Result<Json> {
                   if (loki) {
                     auto client = http::NewClient({.timeout = std::chrono::seconds(30)});
                     ASSIGN_OR_RETURN(lines, e.FetchLoki(*d, client.get()));
                     source = "loki";
                   }
                   ASSIGN_OR_RETURN(learn::IngestReport rep, e.Ingest(id, lines, source));
                   ASSIGN_OR_RETURN(size_t indexed, e.IndexSize());
                   Json j = rep.ToJson();
                   j["source"] = source;
                   j["index"] = std::string(e.index().kind());
                   j["indexed"] = indexed;
                   return j;
                 });
               }});
  r.push_back({"GET", "/v1/tokens", "/v1/tokens", Role::kAdmin, false,
               [ledger](const ApiRequest&, std::string*) -> Result<Json> {
                 ASSIGN_OR_RETURN(std::vector<ledger::Token> tokens, ledger->ListTokens());
                 Json arr = Json::array();
                 for (const auto& t : tokens) arr.push_back(record::TokenToJson(t));
                 return Json{{"tokens", arr}};
               }});
  return r;
}

}  // namespace clawback::service
