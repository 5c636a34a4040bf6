#include "cli/spine_client.h"

#include <sys/stat.h>

#include <cstdlib>

#include "common/clock.h"
#include "http/client.h"
#include "ledger/event_kinds.h"
#include "ledger/trace_json.h"
#include "record/direct.h"
#include "service/api_routes.h"

namespace clawback::cli {
namespace {

using ledger::Ledger;

Result<Uuid> IdFrom(const Json& answer, std::initializer_list<const char*> keys,
                           const std::string& what) {
  for (const char* k : keys) {
    if (answer.is_object() && answer.contains(k) && answer[k].is_string()) {
      if (auto id = Uuid::Parse(answer[k].get<std::string>())) return *id;
    }
}
  return Internal(what + ": the server's answer has no id: " + answer.dump());
}

class LedgerClient : public SpineClient {
 public:
  LedgerClient(std::unique_ptr<Ledger> ledger, const Config& config)
      : ledger_(std::move(ledger)), url_(config.LedgerUrl()) {
    // The same learning system `serve` runs: advice on a failed check, outcomes, …
    learn_ = std::make_shared<service::LearnService>(config, ledger_.get());
    deps_.ledger = ledger_.get();
    deps_.recommendations = service::LearnService::RecommendationsFn(learn_);
  }

  // SpineClient
  std::string Describe() const override { return "ledger " + url_; }

  Result<Json> Write(const std::string& method, const std::string& path, const Json& body,
                     const std::string& what) override {
    auto answer = record::WriteDirect(ledger_.get(), deps_, method, path, body, "cli");
    if (!answer.ok()) return answer.status().WithContext(what);
    return answer;
  }

  Result<Json> ListConversations(const ledger::ConversationFilter& filter) override {
    ASSIGN_OR_RETURN(auto list, ledger_->ListConversations(filter));
    return ledger::ConversationListToJson(list);
  }

  Result<Json> GetConversation(const Uuid& id) override {
    ASSIGN_OR_RETURN(auto c, ledger_->GetConversation(id));
    return ledger::ConversationToJson(c);
  }

  Result<Json> GetTrace(const Uuid& id) override {
    ASSIGN_OR_RETURN(auto t, ledger_->GetTrace(id));
    return ledger::TraceToJson(t);
  }

  Result<Json> Call(const std::string& method, const std::string& path,
                    const std::map<std::string, std::string>& query, const Json& body,
                    const std::string& what) override {
    if (api_.empty()) api_ = service::ApiRoutes({ledger_.get(), learn_});
    auto answer = ingest::CallDirect(api_, method, path, query, body, "cli");
    if (!answer.ok()) return answer.status().WithContext(what);
    return answer;
  }

 private:
  std::unique_ptr<Ledger> ledger_;
  std::string url_;
  std::shared_ptr<service::LearnService> learn_;
  record::RouteDeps deps_;
  std::vector<ingest::ApiRoute> api_;
};

// Maps an HTTP answer back to a Status: the JSON error body's code when there is one
// ({"error": {"code": "NotFound", "message": "…"}}), else by HTTP status.
Status StatusFromResponse(const Result<http::Response>& res, const std::string& what,
                          const std::string& url) {
  if (!res.ok()) {
    // The client's message reads "METHOD URL: reason"; the reason is what the user needs.
    const std::string& m = res.status().message();
    const size_t colon = m.rfind(": ");
    const std::string reason = colon == std::string::npos ? m : m.substr(colon + 2);
    if (res.status().code() != StatusCode::kUnavailable) return Status(res.status().code(), what + ": " + m);
    return Unavailable(what + ": cannot reach the server at " + url + " (" + reason + ")");
  }
  if (res->status >= 200 && res->status < 300) return Status::Ok();
  std::string message = res->body;
  std::string code_name;
  Json body = Json::parse(res->body, nullptr, false);
  if (!body.is_discarded() && body.is_object() && body.contains("error")) {
    const Json& err = body["error"];
    if (err.is_object()) {
      if (err.contains("message") && err["message"].is_string()) message = err["message"];
      if (err.contains("code") && err["code"].is_string()) code_name = err["code"];
      if (err.contains("field") && err["field"].is_string() &&
          !err["field"].get<std::string>().empty()) {
        message += " (field " + err["field"].get<std::string>() + ")";
      }
    } else if (err.is_string()) {
      message = err.get<std::string>();
    }
  }
  for (int c = static_cast<int>(StatusCode::kInvalidArgument);
       c <= static_cast<int>(StatusCode::kInternal); ++c) {
    auto code = static_cast<StatusCode>(c);
    if (!code_name.empty() && (StatusCodeSnakeName(code) == code_name || StatusCodeName(code) == code_name)) {
      return Status(code, what + ": " + message);
    }
  }
  StatusCode code = StatusCode::kInternal;
  switch (res->status) {
    case 400: code = StatusCode::kInvalidArgument; break;
    case 401: code = StatusCode::kUnauthenticated; break;
    case 403: code = StatusCode::kPermissionDenied; break;
    case 404: code = StatusCode::kNotFound; break;
    case 409: code = StatusCode::kAlreadyExists; break;
    case 413: code = StatusCode::kTooLarge; break;
    case 423: code = StatusCode::kLocked; break;
    case 502:
    case 503:
    case 504: code = StatusCode::kUnavailable; break;
    default: break;
  }
  return Status(code, what + ": HTTP " + std::to_string(res->status) + ": " + message);
}

Json WithoutNulls(Json j) {
  for (auto it = j.begin(); it != j.end();) {
    it = it->is_null() ? j.erase(it) : std::next(it);
  }
  return j;
}

// The client the CLI talks to `serve` with: the token from $CLAWBACK_TOKEN, and a request
// that moves no byte for `idle` fails (a long answer that keeps arriving does not).
std::unique_ptr<http::Client> NewServerHttp(std::chrono::milliseconds connect_timeout,
                                            std::chrono::seconds idle) {
  http::ClientOptions o;
  o.timeout = std::chrono::milliseconds(0);
  o.connect_timeout = connect_timeout;
  o.stall_timeout = idle;
  if (const char* token = std::getenv("CLAWBACK_TOKEN"); token && *token) o.bearer_token = token;
  return http::NewClient(std::move(o));
}

std::string BaseUrl(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

Status CheckServerUrl(const std::string& url) {
  if (http::IsHttpUrl(url)) return Status::Ok();
  return InvalidArgument("server URL \"" + url +
                         "\": expected http://HOST:PORT (for example http://127.0.0.1:18800)");
}

Result<Json> DecodeAnswer(const Result<http::Response>& res, const std::string& what,
                          const std::string& url) {
  RETURN_IF_ERROR(StatusFromResponse(res, what, url));
  if (res->body.empty()) return Json::object();
  Json j = Json::parse(res->body, nullptr, false);
  if (j.is_discarded()) return Internal(what + ": the server answered with invalid JSON");
  return j;
}

class ServerClient : public SpineClient {
 public:
  ServerClient(std::string url, int connect_timeout_ms)
      : url_(std::move(url)),
        http_(NewServerHttp(std::chrono::milliseconds(connect_timeout_ms), std::chrono::seconds(30))) {}

  // SpineClient
  std::string Describe() const override { return "server " + url_; }

  Result<Json> Write(const std::string& method, const std::string& path, const Json& body,
                     const std::string& what) override {
    return Send(method == "PATCH" ? "PATCH" : "POST", path, body, what);
  }

  Result<Json> ListConversations(const ledger::ConversationFilter& f) override {
    std::map<std::string, std::string> params;
    if (f.since_ms) params.emplace("since", FormatRfc3339Millis(*f.since_ms));
    if (f.until_ms) params.emplace("until", FormatRfc3339Millis(*f.until_ms));
    if (!f.status.empty()) params.emplace("status", f.status);
    if (!f.query.empty()) params.emplace("q", f.query);
    params.emplace("limit", std::to_string(f.limit));
    return Send("GET", http::WithQuery("/v1/conversations", params), {}, "list conversations");
  }

  Result<Json> GetConversation(const Uuid& id) override {
    return Send("GET", "/v1/conversations/" + id.ToString(), {}, "conversation " + id.ToString());
  }

  Result<Json> GetTrace(const Uuid& id) override {
    return Send("GET", "/v1/conversations/" + id.ToString() + "/trace", {},
                "trace " + id.ToString());
  }

  Result<Json> Call(const std::string& method, const std::string& path,
                    const std::map<std::string, std::string>& query, const Json& body,
                    const std::string& what) override {
    return Send(method == "GET" ? "GET" : "POST", http::WithQuery(path, query), body, what);
  }

 private:
  Result<Json> Send(const std::string& method, const std::string& target, const Json& body,
                    const std::string& what) {
    http::Request r{method, url_ + target, {}, {}, {}};
    if (method != "GET") {
      r.body = body.dump();
      r.headers.emplace_back("Content-Type", "application/json");
    }
    return DecodeAnswer(http_->Send(r), what, url_);
  }
  std::string url_;
  std::unique_ptr<http::Client> http_;
};

}  // namespace

ledger::Event NewEvent(const std::optional<Uuid>& conversation_id, const std::string& kind,
                       const Json& attributes, const std::string& actor) {
  ledger::Event e;
  e.id = NewUuidV7();
  e.conversation_id = conversation_id;
  e.kind = kind;
  e.time_ms = e.id.UnixMillis();
  e.actor = actor;
  e.attributes = attributes.is_null() ? Json::object() : attributes;
  return e;
}

// What each write sends: one route, one body, the same in both modes. `actor` names who
// acts: the token's name would otherwise stand in the record when a server writes it.

Result<Uuid> SpineClient::StartConversation(const StartConversationRequest& req) {
  Json ext = Json::array();
  for (const auto& e : req.external_ids) ext.push_back({{"kind", e.kind}, {"value", e.value}});
  Json body = {{"title", req.title}, {"source", req.source}, {"agent", req.agent},
               {"external_ids", ext}, {"attributes", req.attributes},
               {"actor", req.source.empty() ? std::string("cli") : req.source}};
  ASSIGN_OR_RETURN(Json answer, Write("POST", "/v1/conversations", body, "start conversation"));
  return IdFrom(answer, {"conversation_id", "id"}, "start conversation");
}

Status SpineClient::EndConversation(const Uuid& id, const std::string& status) {
  return Write("POST", "/v1/conversations/" + id.ToString() + "/end",
               {{"status", status}, {"actor", "cli"}}, "end conversation " + id.ToString())
      .status();
}

Result<Uuid> SpineClient::RecordEvent(const Uuid& conversation_id, const std::string& kind,
                                      const Json& attributes) {
  Json body = {{"conversation_id", conversation_id.ToString()},
               {"kind", kind},
               {"attributes", attributes},
               {"actor", "cli"}};
  ASSIGN_OR_RETURN(Json answer, Write("POST", "/v1/events", body, "record " + kind));
  return IdFrom(answer, {"event_id", "id"}, "record " + kind);
}

Status SpineClient::RecordCommand(const ledger::Command& command) {
  Json attrs = WithoutNulls(ledger::CommandToJson(command));
  attrs.erase("conversation_id");
  attrs.erase("id");  // the record assigns ids
  Json body = {{"kind", ledger::kCommand},
               {"attributes", attrs},
               {"actor", "exec"},
               {"time", command.started_at_ms + command.duration_ms.value_or(0)}};
  if (command.conversation_id) body["conversation_id"] = command.conversation_id->ToString();
  return Write("POST", "/v1/events", body, "record command").status();
}

Status SpineClient::RecordCommit(const ledger::Commit& commit) {
  Json body = WithoutNulls(ledger::CommitToJson(commit));
  body["actor"] = "git-hook";
  return Write("POST", "/v1/commits", body, "record commit " + commit.sha).status();
}

Result<std::unique_ptr<ledger::Ledger>> OpenDataDirLedger(const Cli& cli) {
  struct stat st;
  if (::stat(cli.ConfigPath().c_str(), &st) != 0) {
    return FailedPrecondition("the data dir " + cli.DataDir() +
                              " is not initialised (no config.toml): run `clawback init" +
                              (cli.global.data_dir.empty() ? "" : " --data-dir " + cli.DataDir()) +
                              "` first");
  }
  ASSIGN_OR_RETURN(Config config, cli.LoadConfig());
  ASSIGN_OR_RETURN(auto ledger, ledger::OpenLedger(config.LedgerUrl()));
  RETURN_IF_ERROR(ledger->Migrate().WithContext("migrate the ledger"));
  return ledger;
}

Result<std::unique_ptr<SpineClient>> OpenLedgerClient(const Cli& cli) {
  ASSIGN_OR_RETURN(auto ledger, OpenDataDirLedger(cli));
  ASSIGN_OR_RETURN(Config config, cli.LoadConfig());
  return std::unique_ptr<SpineClient>(new LedgerClient(std::move(ledger), config));
}

Result<std::unique_ptr<SpineClient>> OpenServerClient(const std::string& url,
                                                      int connect_timeout_ms) {
  RETURN_IF_ERROR(CheckServerUrl(url));
  return std::unique_ptr<SpineClient>(new ServerClient(BaseUrl(url), connect_timeout_ms));
}

Result<Json> PostToServer(const std::string& url, const std::string& path, const Json& body,
                          const std::string& what, int read_timeout_s) {
  RETURN_IF_ERROR(CheckServerUrl(url));
  const std::string base = BaseUrl(url);
  auto client = NewServerHttp(std::chrono::seconds(3), std::chrono::seconds(read_timeout_s));
  return DecodeAnswer(client->Post(base + path, body.dump(), "application/json"), what, base);
}

Result<std::unique_ptr<SpineClient>> OpenSpineClient(const Cli& cli) {
  std::string server = cli.ServerUrl();
  if (!server.empty()) return OpenServerClient(server);
  return OpenLedgerClient(cli);
}

Result<ledger::ExternalId> ParseExternalId(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    return InvalidArgument("--external-id \"" + text +
                           "\": expected KIND=VALUE, e.g. openclaw.session_key=agent:main:main");
  }
  return ledger::ExternalId{text.substr(0, eq), text.substr(eq + 1)};
}

Result<Uuid> ParseId(const std::string& text, const std::string& what) {
  auto id = Uuid::Parse(text);
  if (!id || id->is_nil()) {
    return InvalidArgument(what + " \"" + text +
                           "\" is not a UUID (expected e.g. 0190f3a2-7c1e-7d41-9a2b-1c2d3e4f5a6b)");
  }
  return *id;
}

}  // namespace clawback::cli
