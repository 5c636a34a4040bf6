// The one HTTP client clawback uses to talk to others (libcurl): the CLI to `serve`, the
// S3 backend, telemetry's pushes (OTLP, Loki, Grafana), learn's Qdrant and Loki queries.
// (The HTTP *server* is cpp-httplib, in ingest/.)
//
// Client is an interface so tests can answer requests without a network; NewClient returns
// the libcurl one. Any HTTP status is a Response; only a failed exchange is an error:
//   Unavailable        connection refused/reset, timeout, a body cut short (fewer bytes
//                      than Content-Length), DNS failure — worth retrying;
//   FailedPrecondition TLS: the peer's certificate cannot be verified, or the CA file is bad;
//   InvalidArgument    a malformed URL or a scheme other than http/https.
// Error messages read "METHOD URL: what went wrong".
//
// Thread-safety: a Client may be shared by threads; each Send takes a connection handle from
// a small pool, so connections are reused (keep-alive) and concurrent requests do not wait.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace clawback::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";  // GET, HEAD, POST, PUT, PATCH, DELETE, …
  std::string url;             // absolute: http://host:port/path?query
  Headers headers;             // sent as given ("Name", "value")
  std::string body;
  // Set instead of body to send bytes the caller owns without copying them (S3's packs);
  // they must outlive Send.
  std::optional<std::string_view> body_ref;

  std::string_view Body() const { return body_ref ? *body_ref : std::string_view(body); }
};

struct Response {
  int status = 0;
  std::string body;
  Headers headers;  // names lower-cased; the final response's only (not a 100 Continue's)

  // The first header of that (lower-case) name, or "" when there is none.
  std::string Header(std::string_view name) const;
};

struct ClientOptions {
  // The whole exchange; zero means no limit (then set stall_timeout).
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(3)};
  // Abort when fewer than 1 KiB/s move for this long (for big transfers without a total
  // limit); zero turns it off.
  std::chrono::seconds stall_timeout{0};
  std::string ca_file;                 // PEM bundle to verify TLS peers with; "" = system's
  std::vector<std::string> connect_to;  // curl CONNECT_TO entries ("HOST:PORT:ADDR:PORT")
  std::string bearer_token;             // sent as "Authorization: Bearer …" when not empty
  // Keep at most this many bytes of a response body (an exporter needs only the start of an
  // error text); zero keeps all.
  size_t max_body = 0;
};

class Client {
 public:
  virtual ~Client() = default;
  virtual Result<Response> Send(const Request& request) = 0;

  Result<Response> Get(const std::string& url) { return Send({"GET", url, {}, {}, {}}); }
  Result<Response> Post(const std::string& url, std::string body,
                        const std::string& content_type) {
    return Send({"POST", url, {{"Content-Type", content_type}}, std::move(body), {}});
  }
};

std::unique_ptr<Client> NewClient(ClientOptions options = {});

// "path" + "?k=v&…" with keys and values percent-encoded (RFC 3986 unreserved kept); the
// path unchanged when params is empty.
std::string WithQuery(const std::string& path, const std::map<std::string, std::string>& params);

// True for http:// and https:// URLs (the schemes Send accepts).
bool IsHttpUrl(std::string_view url);

}  // namespace clawback::http
