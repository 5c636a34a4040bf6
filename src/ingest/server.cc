#include "ingest/server.h"

#include <httplib.h>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <cctype>
#include <regex>

#include "common/version.h"
#include "record/routes.h"
#include "ledger/trace_json.h"
#include "telemetry/process_metrics.h"

namespace clawback::ingest {
namespace {

using httplib::Request;
using httplib::Response;
using record::FieldError;
using record::Json;

constexpr const char* kJson = "application/json";

void SendJson(Response& res, int status, const Json& body) {
  res.status = status;
  std::string text = ledger::DumpJson(body);
  text.push_back('\n');
  res.set_content(std::move(text), kJson);
}

void SendError(Response& res, const Status& st, const std::string& field = "") {
  Json err = {{"code", StatusCodeSnakeName(st.code())}, {"message", st.message()}, {"field", field}};
  SendJson(res, HttpStatusFor(st.code()), Json{{"error", err}});
}

std::string_view RoleNameOf(ledger::Role r) {
  switch (r) {
    case ledger::Role::kViewer: return "viewer";
    case ledger::Role::kIngest: return "ingest";
    case ledger::Role::kOperator: return "operator";
    case ledger::Role::kAdmin: return "admin";
  }
  return "?";
}

}  // namespace

Status ParseListenAddress(const std::string& listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos)
    return InvalidArgument("listen address \"" + listen + "\" must be HOST:PORT");
  std::string h = listen.substr(0, colon);
  std::string p = listen.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) h = "127.0.0.1";
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), ::isdigit))
    return InvalidArgument("listen address \"" + listen + "\": port must be a number 0-65535");
  int n = std::stoi(p);
  if (n > 65535) return InvalidArgument("listen address \"" + listen + "\": port over 65535");
  *host = h;
  *port = n;
  return Status::Ok();
}

// The route table and every handler.
class IngestServer::Handlers {
 public:
  explicit Handlers(IngestServer* s) : s_(s) {
    auto& m = s->metrics_;
    requests_ = &m.AddCounter("clawback_http_requests", "HTTP requests by route, method and status.",
                              {"route", "method", "code"});
    duration_ = &m.AddHistogram("clawback_http_request_duration_seconds",
                                "HTTP request handling time by route.", {"route"});
    ingest_latency_ = &m.AddHistogram(
        "clawback_ingest_latency_seconds",
        "Time from receiving a write request to its commit, by route; exemplars carry the "
        "conversation id as trace_id.",
        {"route"});
    auto& events = m.AddGauge("clawback_ledger_events", "Events in the ledger.").Get();
    auto& convs = m.AddGauge("clawback_ledger_conversations", "Conversations in the ledger.").Get();
    auto& size = m.AddGauge("clawback_ledger_size_bytes", "Ledger database size on disk.").Get();
    telemetry::AddProcessMetrics(&m);
    m.AddGauge("clawback_build_info", "clawback's version; always 1.", {"version", "git_commit"})
        .WithLabels({kVersion, kGitCommit})
        .Set(1);
    ledger::Ledger* ledger = s->ledger_;
    const Clock* clock = &s->clock_;
    // Ledger stats may scan tables: refresh at most every 10 s.
    auto last = std::make_shared<std::atomic<int64_t>>(0);
    m.AddCollector([ledger, clock, last, &events, &convs, &size] {
      int64_t now = clock->NowUnixMillis();
      if (now - last->load() < 10000) return;
      last->store(now);
      auto st = ledger->Stats();
      if (!st.ok()) return;
      events.Set(static_cast<double>(st->events));
      convs.Set(static_cast<double>(st->conversations));
      size.Set(static_cast<double>(st->size_bytes));
    });
  }

  void Install(httplib::Server& http) {
    using ledger::Role;
    // Every write route is one of record/'s rules: the CLI's direct mode runs the same.
    record::RouteDeps deps;
    deps.snapshots = s_->options_.snapshots;
    deps.ledger = s_->ledger_;
    deps.recommendations = s_->options_.recommendations;
    write_routes_ = record::WriteRoutes(deps);
    for (const auto& route : write_routes_) Write(http, route);
    for (const auto& route : s_->options_.routes) Api(http, route);

    Read(http, "/v1/conversations", "/v1/conversations", Role::kViewer,
         [this](const Request& req, Response& res) { ListConversations(req, res); });
    Read(http, R"(/v1/conversations/by-external/([^/]+)/(.+))",
         "/v1/conversations/by-external/{kind}/{value}", Role::kViewer,
         [this](const Request& req, Response& res) {
           auto found = s_->ledger_->FindConversationByExternal(req.matches[1].str(), req.matches[2].str());
           if (!found.ok()) return SendError(res, found.status());
           if (!found->has_value())
             return SendError(res, NotFound("no conversation has external id " + req.matches[1].str() +
                                            "=" + req.matches[2].str()),
                              "value");
           SendJson(res, 200, ledger::ConversationToJson(**found));
         });
    Read(http, R"(/v1/conversations/([^/]+))", "/v1/conversations/{id}", Role::kViewer,
         [this](const Request& req, Response& res) {
           std::optional<Uuid> id = Uuid::Parse(req.matches[1].str());
           if (!id) return SendError(res, InvalidArgument("conversation id is not a UUID"), "id");
           auto c = s_->ledger_->GetConversation(*id);
           if (!c.ok()) return SendError(res, c.status(), "id");
           SendJson(res, 200, ledger::ConversationToJson(*c));
         });
    Read(http, R"(/v1/conversations/([^/]+)/trace)", "/v1/conversations/{id}/trace", Role::kViewer,
         [this](const Request& req, Response& res) {
           std::optional<Uuid> id = Uuid::Parse(req.matches[1].str());
           if (!id) return SendError(res, InvalidArgument("conversation id is not a UUID"), "id");
           auto t = s_->ledger_->GetTrace(*id);
           if (!t.ok()) return SendError(res, t.status(), "id");
           SendJson(res, 200, ledger::TraceToJson(*t));
         });
    Read(http, "/healthz", "/healthz", std::nullopt,
         [](const Request&, Response& res) { SendJson(res, 200, Json{{"status", "ok"}}); });
    Read(http, "/readyz", "/readyz", std::nullopt, [this](const Request&, Response& res) {
      if (!s_->writer_.running())
        return SendError(res, Unavailable("the writer is not running"));
      auto v = s_->ledger_->SchemaVersion();
      if (!v.ok()) return SendError(res, Unavailable("ledger: " + v.status().message()));
      SendJson(res, 200, Json{{"status", "ready"}, {"ledger", s_->ledger_->backend()}, {"schema_version", *v}});
    });
    Read(http, "/metrics", "/metrics",
         s_->options_.metrics_require_token ? std::optional<Role>(Role::kViewer) : std::nullopt,
         [this](const Request& req, Response& res) {
           if (telemetry::WantsOpenMetrics(req.get_header_value("Accept"))) {
             res.set_content(s_->metrics_.ExposeOpenMetrics(),
                             std::string(telemetry::kOpenMetricsContentType).c_str());
           } else {
             res.set_content(s_->metrics_.ExposePrometheus(),
                             std::string(telemetry::kPrometheusContentType).c_str());
           }
         });

    // Unknown routes and httplib's own errors (413, 400) get JSON bodies too.
    http.set_error_handler([this](const Request& req, Response& res) {
      if (!res.body.empty()) return;
      Status st;
      if (res.status == 413) {
        st = TooLargeBody();
      } else if (res.status == 404) {
        std::string allowed = AllowedMethods(req.path);
        if (!allowed.empty()) {
          res.status = 405;
          res.set_header("Allow", allowed);
          st = InvalidArgument(req.method + " is not allowed on " + req.path + "; it takes " + allowed);
        } else {
          st = NotFound("no route for " + req.method + " " + req.path);
        }
      } else {
        st = InvalidArgument("bad request (HTTP " + std::to_string(res.status) + ")");
      }
      int code = res.status;
      SendError(res, st);
      res.status = code;
      Count("unmatched", req.method, code);
    });
    http.set_exception_handler([](const Request&, Response& res, std::exception_ptr) {
      SendError(res, Internal("unexpected error while handling the request"));
    });
  }

 private:

  void Count(const std::string& route, const std::string& method, int code) {
    requests_->WithLabels({route, method, std::to_string(code)}).Inc();
  }

  // Authenticates; on failure answers and returns nullopt.
  std::optional<Principal> Authorize(const Request& req, Response& res, ledger::Role role) {
    auto p = s_->auth_.Authenticate(req.get_header_value("Authorization"), role);
    if (!p.ok()) {
      Status st = p.status();
      if (st.code() == StatusCode::kPermissionDenied)
        st = PermissionDenied(st.message() + " (needs " + std::string(RoleNameOf(role)) + ")");
      SendError(res, st, st.code() == StatusCode::kUnauthenticated ? "Authorization" : "");
      return std::nullopt;
    }
    return *p;
  }

  // REQUIRES: `route` outlives the server (it is an element of write_routes_).
  void Write(httplib::Server& http, const record::WriteRoute& route) {
    auto& latency = ingest_latency_->WithLabels({route.name});
    auto& duration = duration_->WithLabels({route.name});
    routes_.push_back({route.method, std::regex(route.pattern)});
    const record::WriteRoute* r = &route;
    auto handler = [this, r, &latency, &duration](const Request& req, Response& res,
                                                  const httplib::ContentReader& reader) {
      int64_t t0 = s_->clock_.MonotonicNanos();
      std::string body;
      if (ReadBody(req, res, reader, &body)) Handle(req, body, res, *r, &latency);
      duration.Observe(static_cast<double>(s_->clock_.MonotonicNanos() - t0) / 1e9);
      Count(r->name, r->method, res.status);
    };
    if (route.method == "POST") {
      http.Post(route.pattern, handler);
    } else {
      http.Patch(route.pattern, handler);
    }
  }

  // Reads the request body into *body, at most max_body_bytes of it whatever the
  // Content-Type, Content-Encoding or transfer encoding. A request with neither
  // Content-Length nor chunked encoding has no body (RFC 9112 6.3) and is not waited on.
  // On failure answers (413, 400) and returns false.
  bool ReadBody(const Request& req, Response& res, const httplib::ContentReader& reader,
                std::string* body) {
    const size_t max = s_->options_.max_body_bytes;
    const std::string te = req.get_header_value("Transfer-Encoding");
    const bool chunked = te.find("chunked") != std::string::npos;
    if (!chunked && !req.has_header("Content-Length")) return true;
    if (!chunked) {
      const std::string cl = req.get_header_value("Content-Length");
      if (cl.empty() || cl.size() > 18 || !std::all_of(cl.begin(), cl.end(), ::isdigit)) {
        res.set_header("Connection", "close");
        SendError(res, InvalidArgument("Content-Length \"" + cl + "\" is not a number"), "Content-Length");
        return false;
      }
      if (std::stoull(cl) > max) {
        // Read and dropped when that costs little, so the client sees the answer instead of
        // a reset while it is still sending (httplib discards a body over its payload limit,
        // max_body_bytes, without keeping it); else not read, and the connection closed.
        if (std::stoull(cl) <= 16 * static_cast<unsigned long long>(max)) {
          reader([](const char*, size_t) { return true; });
        }
        res.set_header("Connection", "close");
        SendError(res, TooLargeBody(), "");
        return false;
      }
      if (std::stoull(cl) == 0) return true;
    }
    bool over = false;
    bool ok = reader([&](const char* data, size_t n) {
      if (body->size() + n > max) {
        over = true;
        return false;
      }
      body->append(data, n);
      return true;
    });
    if (over) {
      res.set_header("Connection", "close");
      SendError(res, TooLargeBody(), "");
      return false;
    }
    if (!ok) {
      res.set_header("Connection", "close");
      SendError(res, InvalidArgument("the request body could not be read (cut short or badly encoded)"));
      return false;
    }
    return true;
  }

  Status TooLargeBody() const {
    return TooLarge("request body is over the " + std::to_string(s_->options_.max_body_bytes) +
                    "-byte limit ([server] max_body_bytes)");
  }

  void Handle(const Request& req, const std::string& req_body, Response& res,
              const record::WriteRoute& route, telemetry::Histogram* latency) {
    int64_t t0 = s_->clock_.MonotonicNanos();
    auto principal = Authorize(req, res, route.role);
    if (!principal) return;
    if (!s_->options_.hmac_secret.empty()) {
      Status sig = VerifySignature(s_->options_.hmac_secret, req_body,
                                   req.get_header_value("X-Clawback-Signature"));
      if (!sig.ok()) return SendError(res, sig, "X-Clawback-Signature");
    }
    Json body;
    FieldError err;
    if (req_body.empty() && route.empty_body_ok) {
      body = Json();
    } else if (req_body.empty()) {
      return SendError(res, InvalidArgument("the request body is empty: this route takes a JSON body"));
    } else if (!record::ParseJsonBody(req_body, &body, &err)) {
      return SendError(res, err.status, err.field);
    }
    record::RequestInfo info;
    info.actor = principal->token_name;
    info.now_ms = s_->clock_.NowUnixMillis();
    info.max_events = s_->options_.max_events_per_request;
    record::ApplyDeclaredActor(body, &info);
    std::vector<std::string> params;
    for (size_t i = 1; i < req.matches.size(); ++i) params.push_back(req.matches[i].str());
    record::PrepareFn fn;
    if (!route.build(body, params, info, &fn, &err)) return SendError(res, err.status, err.field);
    auto commit = [this](record::PrepareFn job) {
      // This thread keeps a reference to the request's data (the writer drops its own before
      // answering), so the frees happen here and not on the single writer thread.
      record::PrepareFn keep = job;
      std::future<record::Reply> f = s_->writer_.Submit(std::move(job));
      if (f.wait_for(s_->options_.write_timeout) != std::future_status::ready) {
        record::Reply timed_out;
        timed_out.status = Unavailable("the ledger did not commit within the write timeout");
        return timed_out;
      }
      return f.get();
    };
    record::Reply r = commit(std::move(fn));
    if (!r.status.ok()) return SendError(res, r.status, r.field);
    double secs = static_cast<double>(s_->clock_.MonotonicNanos() - t0) / 1e9;
    if (r.conversation_id) {
      latency->Observe(secs, r.conversation_id->ToHex());
    } else {
      latency->Observe(secs);
    }
    if (r.finish_body) r.finish_body(&r.body);
    record::RunAfterCommit(&r, commit);
    SendJson(res, route.ok_status, r.body);
  }

  // REQUIRES: `route` outlives the server (it is an element of options_.routes).
  void Api(httplib::Server& http, const ApiRoute& route) {
    auto& duration = duration_->WithLabels({route.name});
    routes_.push_back({route.method, std::regex(route.pattern)});
    const ApiRoute* r = &route;
    auto run = [this, r](const Request& req, const std::string* raw_body, Response& res) {
      auto principal = Authorize(req, res, r->role);
      if (!principal) return;
      ApiRequest areq;
      for (size_t i = 1; i < req.matches.size(); ++i) areq.params.push_back(req.matches[i].str());
      for (const auto& [k, v] : req.params) areq.query.emplace(k, v);  // keeps the first
      areq.actor = principal->token_name;
      if (r->takes_body) {
        if (!s_->options_.hmac_secret.empty() && r->role >= ledger::Role::kIngest) {
          Status sig = VerifySignature(s_->options_.hmac_secret, *raw_body,
                                       req.get_header_value("X-Clawback-Signature"));
          if (!sig.ok()) return SendError(res, sig, "X-Clawback-Signature");
        }
        FieldError err;
        if (raw_body->empty())
          return SendError(res, InvalidArgument("the request body is empty: this route takes a JSON body"));
        if (!record::ParseJsonBody(*raw_body, &areq.body, &err)) return SendError(res, err.status, err.field);
        if (!areq.body.is_object()) return SendError(res, InvalidArgument("body must be a JSON object"));
      }
      std::string field;
      auto answer = r->handle(areq, &field);
      if (!answer.ok()) return SendError(res, answer.status(), field);
      SendJson(res, 200, *answer);
    };
    if (route.method == "GET") {
      http.Get(route.pattern, [this, r, run, &duration](const Request& req, Response& res) {
        int64_t t0 = s_->clock_.MonotonicNanos();
        run(req, nullptr, res);
        duration.Observe(static_cast<double>(s_->clock_.MonotonicNanos() - t0) / 1e9);
        Count(r->name, "GET", res.status);
      });
    } else {
      http.Post(route.pattern, [this, r, run, &duration](const Request& req, Response& res,
                                                         const httplib::ContentReader& reader) {
        int64_t t0 = s_->clock_.MonotonicNanos();
        std::string body;
        if (ReadBody(req, res, reader, &body)) run(req, &body, res);
        duration.Observe(static_cast<double>(s_->clock_.MonotonicNanos() - t0) / 1e9);
        Count(r->name, r->method, res.status);
      });
    }
  }

  void Read(httplib::Server& http, const std::string& pattern, const std::string& route,
            std::optional<ledger::Role> role, std::function<void(const Request&, Response&)> fn) {
    auto& duration = duration_->WithLabels({route});
    routes_.push_back({"GET", std::regex(pattern)});
    http.Get(pattern, [this, route, role, fn, &duration](const Request& req, Response& res) {
      int64_t t0 = s_->clock_.MonotonicNanos();
      if (!role || Authorize(req, res, *role)) fn(req, res);
      duration.Observe(static_cast<double>(s_->clock_.MonotonicNanos() - t0) / 1e9);
      Count(route, "GET", res.status);
    });
  }

  void ListConversations(const Request& req, Response& res) {
    ledger::ConversationFilter f;
    for (const char* key : {"since", "until"}) {
      if (!req.has_param(key)) continue;
      std::string v = req.get_param_value(key);
      int64_t ms = 0;
      if (!ParseRfc3339Millis(v, &ms)) {
        if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), ::isdigit))
          return SendError(res, InvalidArgument(std::string(key) +
                                                " must be an RFC 3339 time or Unix milliseconds"),
                           key);
        ms = std::stoll(v);
      }
      (std::string_view(key) == "since" ? f.since_ms : f.until_ms) = ms;
    }
    f.status = req.get_param_value("status");
    f.query = req.get_param_value("q");
    if (req.has_param("limit")) {
      std::string v = req.get_param_value("limit");
      if (v.empty() || v.size() > 6 || !std::all_of(v.begin(), v.end(), ::isdigit) ||
          std::stoi(v) < 1 || std::stoi(v) > 10000)
        return SendError(res, InvalidArgument("limit must be a number from 1 to 10000"), "limit");
      f.limit = std::stoi(v);
    }
    auto list = s_->ledger_->ListConversations(f);
    if (!list.ok()) return SendError(res, list.status());
    SendJson(res, 200, ledger::ConversationListToJson(*list));
  }

  // The methods some route takes on `path` ("POST", "GET, HEAD"), or "" when none does.
  std::string AllowedMethods(const std::string& path) const {
    std::vector<std::string> methods;
    for (const auto& r : routes_) {
      if (!std::regex_match(path, r.pattern)) continue;
      if (std::find(methods.begin(), methods.end(), r.method) == methods.end()) methods.push_back(r.method);
      if (r.method == "GET" && std::find(methods.begin(), methods.end(), "HEAD") == methods.end())
        methods.push_back("HEAD");
    }
    std::string out;
    for (const auto& m : methods) out += (out.empty() ? "" : ", ") + m;
    return out;
  }

  struct RouteEntry {
    std::string method;
    std::regex pattern;
  };
  std::vector<RouteEntry> routes_;  // written by Install only, before the server starts
  std::vector<record::WriteRoute> write_routes_;  // likewise
  IngestServer* s_;
  telemetry::Family<telemetry::Counter>* requests_;
  telemetry::Family<telemetry::Histogram>* duration_;
  telemetry::Family<telemetry::Histogram>* ingest_latency_;
};

IngestServer::IngestServer(ledger::Ledger* ledger, ServerOptions options, const Clock& clock)
    : ledger_(ledger),
      options_(std::move(options)),
      clock_(clock),
      metrics_(clock),
      auth_(ledger, clock),
      writer_(ledger, clock, options_.writer, &metrics_) {}

IngestServer::~IngestServer() { Stop(); }

namespace {

// Why `listen` cannot be bound, found by trying it once more with a plain socket: httplib
// only says that it failed.
Status BindError(const std::string& listen) {
  std::string host;
  int port = 0;
  if (!ParseListenAddress(listen, &host, &port).ok()) return InvalidArgument("cannot listen on " + listen);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr)
    return InvalidArgument("cannot listen on " + listen + ": \"" + host + "\" is not an address of this machine");
  int err = 0;
  int fd = ::socket(res->ai_family, res->ai_socktype, res->ai_protocol);
  if (fd < 0) {
    err = errno;
  } else {
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0) err = errno;
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (err == EADDRINUSE)
    return Unavailable("cannot listen on " + listen +
                       ": the address is already in use (another clawback serve? `ss -ltnp 'sport = :" +
                       std::to_string(port) + "'` names it); stop it or choose another with --listen");
  if (err == EADDRNOTAVAIL)
    return InvalidArgument("cannot listen on " + listen + ": " + host + " is not an address of this machine");
  if (err == EACCES)
    return PermissionDenied("cannot listen on " + listen + ": ports below 1024 need root");
  if (err != 0) return Unavailable("cannot listen on " + listen + ": " + std::strerror(err));
  return Unavailable("cannot listen on " + listen);
}

}  // namespace

Status IngestServer::Start() {
  RETURN_IF_ERROR(ParseListenAddress(options_.listen, &host_, &port_));
  http_ = std::make_unique<httplib::Server>();
  handlers_ = std::make_unique<Handlers>(this);
  handlers_->Install(*http_);
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_keep_alive_max_count(1000);
  http_->set_keep_alive_timeout(5);
  // Responses go out as a header write and a body write; with Nagle's algorithm the body
  // waits for the client's delayed ACK of the headers (~40 ms on Linux) on every
  // keep-alive request. Small requests must not pay that.
  http_->set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, with which a second server on the same port
  // binds too and the kernel splits the connections between them. SO_REUSEADDR alone
  // still allows a restart while old connections sit in TIME_WAIT.
  http_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  int threads = options_.threads;
  if (threads <= 0) threads = std::max(8, 2 * static_cast<int>(std::thread::hardware_concurrency()));
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  if (port_ == 0) {
    int p = http_->bind_to_any_port(host_);
    if (p <= 0) return BindError(options_.listen);
    port_ = p;
  } else if (!http_->bind_to_port(host_, port_)) {
    return BindError(options_.listen);
  }
  writer_.Start();
  started_ = true;
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  // stop() is a no-op until the accept loop runs, so wait for it: a Stop() right after
  // Start() must not leave the loop running forever.
  for (int i = 0; i < 5000 && !http_->is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!http_->is_running()) {
    Stop();
    return Unavailable("the HTTP server on " + options_.listen + " did not start");
  }
  return Status::Ok();
}

void IngestServer::Stop() {
  if (!started_.exchange(false)) return;
  http_->stop();
  if (thread_.joinable()) thread_.join();
  writer_.Stop();
}

}  // namespace clawback::ingest
