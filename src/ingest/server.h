// `clawback serve`'s HTTP API (cpp-httplib). Routes (docs: issue #2, item 4):
//
//   POST  /v1/openclaw/events                      ingest   OpenClaw hook events
//   POST  /v1/events                               ingest   a generic event
//   POST  /v1/conversations                        ingest   start a conversation
//   POST  /v1/conversations/{id}/end               ingest   end it
//   POST  /v1/commits                              ingest   a git commit
//   POST  /v1/deployments                          ingest   a deployment
//   PATCH /v1/deployments/{id}                     ingest   its status (rolled_back: a rollback)
//   POST  /v1/deployments/{id}/checks              ingest   a health check (failed: advice)
//   POST  /v1/deployments/{id}/resolutions         ingest   what resolved it
//   POST  /v1/snapshots                            operator take a snapshot (snapshots.h)
//   GET   /v1/conversations?since=&until=&status=&q=&limit=   viewer
//   GET   /v1/conversations/{id}                   viewer
//   GET   /v1/conversations/{id}/trace             viewer
//   GET   /v1/conversations/by-external/{kind}/{value}        viewer
//   POST  /v1/tokens                               admin    create a token (record/tokens.h)
//   POST  /v1/tokens/{id}/revoke                   admin    revoke one
//   …     ServerOptions::routes (api_route.h): deployments with their outcome, advice,
//         risk, log ingest, the token list (service/api_routes.h lists them)
//   GET   /healthz, /readyz                        none
//   GET   /metrics                                 none (viewer with metrics_require_token)
//
// Every error is a JSON body {"error": {"code": "...", "message": "...", "field": "..."}}
// with the HTTP status from HttpStatusFor(); `code` is the snake_case status name
// ("invalid_argument", "not_found", "unauthenticated", "permission_denied", "too_large",
// "unavailable", …). Writes are validated on the HTTP thread and committed by the
// BatchingWriter (writer.h); reads go straight to the ledger.
//
// Thread-safety: Start/Stop from one owner thread; handlers run on the server's pool.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/status.h"
#include "ingest/api_route.h"
#include "ingest/auth.h"
#include "record/snapshots.h"
#include "ingest/writer.h"
#include "ledger/ledger.h"
#include "telemetry/metrics.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace clawback::ingest {

struct ServerOptions {
  std::string listen = "127.0.0.1:18800";  // "HOST:PORT", "[v6]:PORT"; port 0 picks one
  size_t max_body_bytes = 1 << 20;
  bool metrics_require_token = false;
  std::string hmac_secret;  // non-empty: writes must carry X-Clawback-Signature
  int threads = 0;          // HTTP worker threads; 0: max(8, 2 * cores)
  size_t max_events_per_request = 10000;
  WriterOptions writer;
  std::chrono::milliseconds write_timeout{30000};
  // Advice recorded on a failed health check (POST /v1/deployments/{id}/checks); empty:
  // none is recorded.
  std::function<Result<nlohmann::json>(const Uuid& deployment)> recommendations;
  // More routes (service/api_routes.h), registered before the built-in reads.
  std::vector<ApiRoute> routes;
  // POST /v1/snapshots; empty: the route answers FailedPrecondition.
  record::SnapshotFn snapshots;
};

// Splits "HOST:PORT" / "[V6]:PORT" / ":PORT" (host 127.0.0.1). InvalidArgument naming the
// problem otherwise.
Status ParseListenAddress(const std::string& listen, std::string* host, int* port);

class IngestServer {
 public:
  IngestServer(ledger::Ledger* ledger, ServerOptions options, const Clock& clock = SystemClock());
  ~IngestServer();

  // Binds and starts serving on a background thread. Unavailable when the address cannot
  // be bound (in use, not local).
  Status Start();
  // The bound port (after Start).
  int port() const { return port_; }
  const std::string& host() const { return host_; }
  // Stops accepting, finishes in-flight requests and drains the writer.
  void Stop();

  telemetry::Registry& metrics() { return metrics_; }

 private:
  class Handlers;
  ledger::Ledger* ledger_;
  ServerOptions options_;
  const Clock& clock_;
  telemetry::Registry metrics_;
  TokenAuthenticator auth_;
  BatchingWriter writer_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<Handlers> handlers_;
  std::thread thread_;
  std::string host_;
  int port_ = 0;
  std::atomic<bool> started_{false};
};

}  // namespace clawback::ingest
