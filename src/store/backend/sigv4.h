// AWS Signature Version 4 for S3 requests (header-based authentication with a signed
// payload: x-amz-content-sha256 is the SHA-256 of the exact body sent).
//
// Reference: AWS "Signature Calculations for the Authorization Header" (S3 API
// reference, sig-v4-header-based-auth); its worked examples are the unit tests
// (sigv4_test.cc). S3 differs from other services in one way that matters here: the
// canonical URI is the path encoded once (never double-encoded), with '/' kept.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace clawback::store {

struct SigV4Credentials {
  std::string access_key;
  std::string secret_key;
  std::string region = "us-east-1";
  std::string service = "s3";
};

struct SigV4Request {
  std::string method;           // "GET", "PUT", ...
  std::string canonical_uri;    // URI-encoded path, e.g. "/test%24file.text"
  std::string canonical_query;  // from CanonicalQuery(); "" when there is none
  // Every header to sign, names in any case ("Host", "x-amz-date", "Range", ...). Must
  // include host, x-amz-date and x-amz-content-sha256.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_hash;  // lowercase hex SHA-256 of the body
};

struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;range;x-amz-content-sha256;x-amz-date"
  std::string signature;       // lowercase hex
  std::string authorization;   // the Authorization header value
};

// amz_date is "YYYYMMDDTHHMMSSZ" (also the value of the x-amz-date header).
SigV4Signature SignV4(const SigV4Request& request, const SigV4Credentials& credentials,
                      std::string_view amz_date);

// RFC 3986 percent-encoding as AWS wants it: A-Z a-z 0-9 - _ . ~ stay, everything else
// becomes %XX (upper-case hex); '/' stays when keep_slash.
std::string UriEncode(std::string_view s, bool keep_slash);

// Encodes names and values, sorts by name then value, joins "a=1&b=2" ("lifecycle=" for a
// parameter without a value).
std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> params);

// "20130524T000000Z" for a Unix time in seconds.
std::string AmzDate(int64_t unix_seconds);

// Lowercase hex SHA-256 and raw HMAC-SHA256.
std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);

}  // namespace clawback::store
