// Authentication for the HTTP API: bearer tokens with roles, and optional HMAC-SHA256
// signatures of request bodies.
//
// Tokens. A token is 32 random bytes printed once as "cbk_" + 43 base64url characters
// (no padding). The ledger stores only HashToken(token), the lowercase hex SHA-256 of the
// whole token text, in a ledger::Token with a role. Roles are ordered:
//   viewer (reads) < ingest (event writes) < operator < admin,
// and a route needing role R accepts any token whose role is >= R.
//
// Signatures. When the server has an HMAC secret, write requests carry
//   X-Clawback-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>
// compared in constant time.
//
// Thread-safety: the free functions are pure; TokenAuthenticator is safe to call from many
// threads (it caches lookups under a mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/status.h"
#include "ledger/ledger.h"
#include "record/tokens.h"

namespace clawback::ingest {

// How tokens are made lives with the rules that write them (record/tokens.h).
using record::GenerateToken;
using record::HashToken;
using record::kTokenPrefix;
using record::MakeTokenRecord;

// Lowercase hex HMAC-SHA256(key, data).
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// Checks an X-Clawback-Signature header value ("sha256=<hex>", hex in either case) against
// the body. Unauthenticated with a reason when it is missing, malformed or wrong.
Status VerifySignature(std::string_view secret, std::string_view body, std::string_view header);

// Constant-time equality of two strings (length is not secret).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// The token of an "Authorization: Bearer <token>" header; nullopt when the header is
// absent or not a bearer credential. The scheme is case-insensitive.
std::optional<std::string> ParseBearer(std::string_view authorization);

// The caller behind a request.
struct Principal {
  Uuid token_id;
  std::string token_name;
  ledger::Role role = ledger::Role::kViewer;
};

// Resolves bearer tokens against the ledger, caching results for `ttl` so a busy ingest
// path does not query the ledger per request (a revoked token stops working within ttl).
// Each token's last use is written back to the ledger at most once a minute.
class TokenAuthenticator {
 public:
  TokenAuthenticator(ledger::Ledger* ledger, const Clock& clock = SystemClock(),
                     std::chrono::milliseconds ttl = std::chrono::seconds(5))
      : ledger_(ledger), clock_(clock), ttl_ms_(ttl.count()) {}

  // Unauthenticated when the header is missing or the token unknown/revoked,
  // PermissionDenied when its role is below `needed`, Unavailable when the ledger fails.
  Result<Principal> Authenticate(std::string_view authorization_header, ledger::Role needed);

  // Forgets every cached lookup.
  void Flush();

 private:
  struct Cached {
    std::optional<Principal> principal;  // nullopt: unknown or revoked
    int64_t expires_ms = 0;
    int64_t last_used_ms = 0;  // as the ledger has it, or as this process last wrote it
  };
  ledger::Ledger* ledger_;
  const Clock& clock_;
  const int64_t ttl_ms_;
  std::mutex mu_;
  std::unordered_map<std::string, Cached> cache_;  // GUARDED_BY(mu_), key: token hash
};

}  // namespace clawback::ingest
