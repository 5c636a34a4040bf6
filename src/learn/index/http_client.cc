#include "learn/index/http_client.h"

#include <curl/curl.h>

namespace clawback::learn {
namespace {

size_t Append(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

class CurlHttpClient : public HttpClient {
 public:
  explicit CurlHttpClient(std::chrono::milliseconds timeout) : timeout_(timeout) {
    curl_ = curl_easy_init();
  }
  ~CurlHttpClient() override {
    if (curl_) curl_easy_cleanup(curl_);
  }

  Result<HttpResponse> Send(const HttpRequest& r) override {
    if (!curl_) return Internal("curl_easy_init failed");
    curl_easy_reset(curl_);
    HttpResponse resp;
    curl_slist* headers = nullptr;
    for (const auto& [k, v] : r.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
    curl_easy_setopt(curl_, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    if (r.method != "GET") {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, r.body.data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    }
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, Append);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &resp.body);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(curl_);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK)
      return Unavailable(r.method + " " + r.url + ": " + curl_easy_strerror(rc));
    long code = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &code);
    resp.status = static_cast<int>(code);
    return resp;
  }

 private:
  CURL* curl_ = nullptr;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<HttpClient> NewCurlHttpClient(std::chrono::milliseconds timeout) {
  return std::make_unique<CurlHttpClient>(timeout);
}

}  // namespace clawback::learn
