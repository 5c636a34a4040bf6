#include "http/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace clawback::http {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct BodySink {
  std::string* body;
  size_t max;  // 0 = unlimited
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const size_t len = size * n;
  if (sink->max == 0) {
    sink->body->append(data, len);
  } else if (sink->body->size() < sink->max) {
    sink->body->append(data, std::min(len, sink->max - sink->body->size()));
  }
  return len;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<Headers*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response: after a 100 Continue, only the last one counts
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  headers->emplace_back(Lower(line.substr(0, colon)), std::string(value));
  return size * n;
}

bool HasHeader(const Headers& headers, std::string_view name) {
  const std::string want = Lower(name);
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return Lower(h.first) == want; });
}

Status TransportError(CURLcode rc, const std::string& what) {
  std::string message = what + ": " + curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return FailedPrecondition(message);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidArgument(message);
    default:
      return Unavailable(message);
  }
}

class CurlClient : public Client {
 public:
  explicit CurlClient(ClientOptions options) : options_(std::move(options)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }
  ~CurlClient() override {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  Result<Response> Send(const Request& r) override {
    const std::string what = r.method + " " + r.url;
    if (!IsHttpUrl(r.url)) return InvalidArgument(what + ": expected an http:// or https:// URL");
    CURL* curl = Acquire();
    if (curl == nullptr) return Internal(what + ": curl_easy_init failed");
    curl_easy_reset(curl);

    curl_slist* headers = nullptr;
    for (const auto& [name, value] : r.headers)
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    if (!options_.bearer_token.empty() && !HasHeader(r.headers, "Authorization"))
      headers = curl_slist_append(headers, ("Authorization: Bearer " + options_.bearer_token).c_str());
    const std::string_view body = r.Body();
    const bool sends_body = r.method == "POST" || r.method == "PUT" || r.method == "PATCH" ||
                            !body.empty();
    if (sends_body && !HasHeader(r.headers, "Content-Type"))
      headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
    curl_slist* connect_to = nullptr;
    for (const std::string& c : options_.connect_to)
      connect_to = curl_slist_append(connect_to, c.c_str());

    Response response;
    BodySink sink{&response.body, options_.max_body};
    curl_easy_setopt(curl, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
    if (options_.timeout.count() > 0)
      curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    auto connect = options_.connect_timeout;
    if (options_.timeout.count() > 0) connect = std::min(connect, options_.timeout);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect.count()));
    if (options_.stall_timeout.count() > 0) {
      curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
      curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                       static_cast<long>(options_.stall_timeout.count()));
    }
    if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (connect_to) curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
    if (r.method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (r.method == "GET" && body.empty()) {
      curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      if (sends_body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        // Never NULL: curl would then read the body from stdin.
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.empty() ? "" : body.data());
      }
    }

    const CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_off_t content_length = -1;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &content_length);
    curl_slist_free_all(headers);
    curl_slist_free_all(connect_to);
    if (rc != CURLE_OK) {
      curl_easy_cleanup(curl);  // a broken connection is not reused
      return TransportError(rc, what);
    }
    Release(curl);
    response.status = static_cast<int>(status);
    if (r.method != "HEAD" && options_.max_body == 0 && response.status / 100 == 2 &&
        content_length >= 0 && static_cast<curl_off_t>(response.body.size()) != content_length) {
      return Unavailable(what + ": body ended after " + std::to_string(response.body.size()) +
                         " of " + std::to_string(content_length) + " bytes");
    }
    return response;
  }

 private:
  CURL* Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  void Release(CURL* h) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < kMaxIdle) {
      idle_.push_back(h);
      return;
    }
    curl_easy_cleanup(h);
  }

  static constexpr size_t kMaxIdle = 16;
  const ClientOptions options_;
  std::mutex mu_;
  std::vector<CURL*> idle_;  // GUARDED_BY(mu_)
};

void PercentEncode(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

}  // namespace

std::string Response::Header(std::string_view name) const {
  const std::string want = Lower(name);
  for (const auto& [k, v] : headers) {
    if (k == want) return v;
  }
  return {};
}

std::unique_ptr<Client> NewClient(ClientOptions options) {
  return std::make_unique<CurlClient>(std::move(options));
}

std::string WithQuery(const std::string& path, const std::map<std::string, std::string>& params) {
  if (params.empty()) return path;
  std::string out = path;
  char sep = path.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    out.push_back(sep);
    sep = '&';
    PercentEncode(k, &out);
    out.push_back('=');
    PercentEncode(v, &out);
  }
  return out;
}

bool IsHttpUrl(std::string_view url) {
  return url.starts_with("http://") || url.starts_with("https://");
}

}  // namespace clawback::http
