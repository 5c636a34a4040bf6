#include "telemetry/http_post.h"

#include <curl/curl.h>

#include <mutex>

namespace clawback::telemetry {
namespace {

size_t Collect(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* s = static_cast<std::string*>(userdata);
  size_t n = size * nmemb;
  if (s->size() < 512) s->append(ptr, std::min(n, 512 - s->size()));
  return n;
}

}  // namespace

HttpPoster::HttpPoster() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
}

HttpPoster::~HttpPoster() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Status HttpPoster::Post(const std::string& url, const std::string& content_type,
                        const std::string& body,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        std::chrono::milliseconds timeout) {
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) return Internal("curl_easy_init failed");
  curl_easy_reset(c);
  struct curl_slist* hdrs = nullptr;
  hdrs = curl_slist_append(hdrs, ("Content-Type: " + content_type).c_str());
  hdrs = curl_slist_append(hdrs, "Expect:");
  for (const auto& [k, v] : headers) hdrs = curl_slist_append(hdrs, (k + ": " + v).c_str());
  std::string response;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<int64_t>(timeout.count(), 2000)));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
  CURLcode rc = curl_easy_perform(c);
  long http = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
  curl_slist_free_all(hdrs);
  if (rc != CURLE_OK) return Unavailable("POST " + url + ": " + curl_easy_strerror(rc));
  if (http >= 200 && http < 300) return Status::Ok();
  std::string m = "POST " + url + ": HTTP " + std::to_string(http);
  if (!response.empty()) m += ": " + response;
  if (http == 429 || http >= 500) return Unavailable(m);
  return InvalidArgument(m);
}

}  // namespace clawback::telemetry
