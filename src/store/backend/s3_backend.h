// S3Backend: a repository in an S3 bucket (AWS, MinIO, Backblaze B2's S3 API, s3rver),
// spoken over the one HTTP client (http/client.h, libcurl) with SigV4-signed requests (sigv4.h) whose payload hash is the
// SHA-256 of the body. Keys follow restic's default layout under an optional prefix:
// "<prefix>/config", "<prefix>/keys/<id>", "<prefix>/data/<id[0:2]>/<id>", ...
//
// Requests: PUT (Save; a HEAD first keeps files immutable), GET with a Range header
// (Load), HEAD (Stat, Exists), DELETE (Remove), ListObjectsV2 with continuation tokens
// (List). Path-style ("https://host/bucket/key") or virtual-host addressing
// ("https://bucket.host/key"). TLS verifies the peer with the system CAs or `ca_file`.
//
// Errors: 5xx, 429, timeouts, dropped connections and truncated bodies are Unavailable
// (retryable: OpenBackend wraps S3 in a RetryBackend with exponential backoff; this class
// never retries by itself); 404 is NotFound; 401/403 Unauthenticated/PermissionDenied
// with S3's error code and message.
//
// Thread-safety: safe to call from many threads at once; connections are pooled.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "http/client.h"
#include "store/backend/backend.h"

namespace clawback::store {

struct S3Options {
  // Empty: taken from $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY / $AWS_SESSION_TOKEN.
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  std::string region = "us-east-1";
  // CA bundle (PEM) to verify the server with; empty: $CLAWBACK_S3_CA_FILE, else the
  // system's CAs.
  std::string ca_file;
  bool virtual_host = false;
  // ListObjectsV2 page size (S3's maximum is 1000).
  int max_keys = 1000;
  std::chrono::milliseconds connect_timeout{10'000};
  // A transfer slower than 1 KiB/s for this long is a timeout (Unavailable).
  std::chrono::seconds stall_timeout{60};
  // Extra CURLOPT_CONNECT_TO entries ("HOST:PORT:CONNECT-HOST:CONNECT-PORT"), so tests
  // can reach virtual-host names that DNS does not know.
  std::vector<std::string> connect_to;
  const Clock* clock = nullptr;  // default SystemClock()
};

// The parts of "s3:https://HOST[:PORT]/BUCKET[/PREFIX]" ("s3:HOST/BUCKET" means https).
struct S3Location {
  std::string scheme;  // "https" or "http"
  std::string host;    // without port
  int port = 0;        // 0: the scheme's default
  std::string bucket;
  std::string prefix;  // no leading or trailing '/'
};
Result<S3Location> ParseS3Url(std::string_view url);

class S3Backend : public Backend {
 public:
  // url: "s3:https://HOST[:PORT]/BUCKET[/PREFIX]". Fails on a malformed URL or when no
  // credentials are configured.
  static Result<std::unique_ptr<S3Backend>> Open(const std::string& url, S3Options options);
  ~S3Backend() override;

  // Backend
  std::string Location() const override;
  Status Create() override;
  Result<bool> Exists() override;
  Status Save(FileType t, const std::string& name, std::string_view data) override;
  Result<std::string> Load(FileType t, const std::string& name, int64_t offset = 0,
                           int64_t length = 0) override;
  Result<FileInfo> Stat(FileType t, const std::string& name) override;
  Status Remove(FileType t, const std::string& name) override;
  Result<std::vector<FileInfo>> List(FileType t) override;

  // The object key of a file ("prefix/data/ab/ab…").
  std::string KeyOf(FileType t, const std::string& name) const;

  using Response = http::Response;  // header names lower-case

  // One signed request. `key` is an object key, or "" for the bucket itself. A transport
  // failure is an error; any HTTP status is a Response.
  Result<Response> Request(const std::string& method, const std::string& key,
                           const std::vector<std::pair<std::string, std::string>>& query,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           std::string_view body);

 private:
  S3Backend(S3Location location, S3Options options);

  const S3Location loc_;
  const S3Options opts_;
  std::unique_ptr<http::Client> http_;  // pools its connections
};

// The Status for a non-2xx S3 response ("S3 GET key: HTTP 403 AccessDenied: ...").
Status S3ErrorStatus(const std::string& what, const S3Backend::Response& response);

}  // namespace clawback::store
