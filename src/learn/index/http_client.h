// HttpClient: the one seam through which learn/ talks HTTP (Qdrant, Loki), so tests can
// answer requests without a network. CurlHttpClient is the libcurl implementation.
//
// Thread-safety: one client per thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace clawback::learn {

struct HttpRequest {
  std::string method;  // "GET", "PUT", "POST"
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Any HTTP status is a response; only transport failures are errors (Unavailable).
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

std::unique_ptr<HttpClient> NewCurlHttpClient(std::chrono::milliseconds timeout);

}  // namespace clawback::learn
