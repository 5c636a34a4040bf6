// HttpPoster: one blocking HTTP POST through libcurl, for the telemetry exporters.
// 2xx → OK; 429 and 5xx → Unavailable (retryable); other 4xx → InvalidArgument (the
// receiver rejected the payload: retrying will not help); transport errors and timeouts →
// Unavailable.
//
// Thread-safety: one HttpPoster per thread (it keeps a curl handle for connection reuse).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace clawback::telemetry {

class HttpPoster {
 public:
  HttpPoster();
  ~HttpPoster();
  HttpPoster(const HttpPoster&) = delete;
  HttpPoster& operator=(const HttpPoster&) = delete;

  Status Post(const std::string& url, const std::string& content_type, const std::string& body,
              const std::vector<std::pair<std::string, std::string>>& headers,
              std::chrono::milliseconds timeout);

 private:
  void* curl_;
};

}  // namespace clawback::telemetry
