#include "ingest/auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cctype>

#include "common/uuid.h"

namespace clawback::ingest {

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const uint8_t*>(data.data()), data.size(), md, &len);
  return HexEncode(md, len);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

Status VerifySignature(std::string_view secret, std::string_view body, std::string_view header) {
  if (header.empty()) return Unauthenticated("missing X-Clawback-Signature header");
  constexpr std::string_view kScheme = "sha256=";
  if (header.size() != kScheme.size() + 64 || header.substr(0, kScheme.size()) != kScheme)
    return Unauthenticated("X-Clawback-Signature must be \"sha256=<64 hex digits>\"");
  std::string given(header.substr(kScheme.size()));
  for (char& c : given) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!ConstantTimeEquals(given, HmacSha256Hex(secret, body)))
    return Unauthenticated("X-Clawback-Signature does not match the body");
  return Status::Ok();
}

std::optional<std::string> ParseBearer(std::string_view h) {
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  if (h.size() < 7) return std::nullopt;
  std::string scheme(h.substr(0, 7));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return std::nullopt;
  h.remove_prefix(7);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\r')) h.remove_suffix(1);
  if (h.empty()) return std::nullopt;
  return std::string(h);
}

namespace {
constexpr int64_t kTouchIntervalMs = 60000;
}  // namespace

Result<Principal> TokenAuthenticator::Authenticate(std::string_view authorization_header,
                                                   ledger::Role needed) {
  std::optional<std::string> token = ParseBearer(authorization_header);
  if (!token) return Unauthenticated("missing bearer token (Authorization: Bearer <token>)");
  std::string hash = HashToken(*token);
  int64_t now = clock_.NowUnixMillis();
  std::optional<Principal> principal;
  bool cached = false;
  bool touch = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && it->second.expires_ms > now) {
      principal = it->second.principal;
      cached = true;
      if (principal && now - it->second.last_used_ms >= kTouchIntervalMs) {
        it->second.last_used_ms = now;
        touch = true;
      }
    }
  }
  if (!cached) {
    auto found = ledger_->FindTokenByHash(hash);
    if (!found.ok()) return Unavailable("token lookup failed: " + found.status().message());
    int64_t last_used = 0;
    if (found->has_value() && !(*found)->revoked) {
      principal = Principal{(*found)->id, (*found)->name, (*found)->role};
      last_used = (*found)->last_used_at_ms.value_or(0);
      if (now - last_used >= kTouchIntervalMs) {
        last_used = now;
        touch = true;
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (cache_.size() > 10000) cache_.clear();  // bound memory under a flood of bad tokens
    cache_[hash] = Cached{principal, now + ttl_ms_, last_used};
  }
  // Bookkeeping only: a failure to write it must not refuse the request.
  if (touch) ledger_->TouchToken(principal->token_id, now).status().IgnoreError();
  if (!principal) return Unauthenticated("unknown or revoked token");
  if (static_cast<int>(principal->role) < static_cast<int>(needed))
    return PermissionDenied("token \"" + principal->token_name + "\" lacks the role this needs");
  return *principal;
}

void TokenAuthenticator::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.clear();
}

}  // namespace clawback::ingest
