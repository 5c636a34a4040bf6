#include "telemetry/http_post.h"

#include <algorithm>

namespace clawback::telemetry {

std::unique_ptr<http::Client> NewExporterClient(std::chrono::milliseconds timeout) {
  http::ClientOptions o;
  o.timeout = timeout;
  o.connect_timeout = std::min<std::chrono::milliseconds>(timeout, std::chrono::seconds(2));
  o.max_body = 512;
  return http::NewClient(std::move(o));
}

Status PostPayload(http::Client& client, const std::string& url, const std::string& content_type,
                   std::string body, const http::Headers& headers) {
  http::Request r{"POST", url, headers, std::move(body), {}};
  r.headers.emplace_back("Content-Type", content_type);
  ASSIGN_OR_RETURN(http::Response res, client.Send(r));
  if (res.status >= 200 && res.status < 300) return Status::Ok();
  std::string m = "POST " + url + ": HTTP " + std::to_string(res.status);
  if (!res.body.empty()) m += ": " + res.body;
  if (res.status == 429 || res.status >= 500) return Unavailable(m);
  return InvalidArgument(m);
}

}  // namespace clawback::telemetry
