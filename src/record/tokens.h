// API tokens: how one is made, and the write rules that create and revoke them
// (POST /v1/tokens, POST /v1/tokens/{id}/revoke, admin role). `clawback token create` and
// `token revoke` run the same rules directly or through a server (record/routes.h).
//
// A token is 32 random bytes printed once as "cbk_" + 43 base64url characters (no
// padding). The ledger stores only HashToken(token), the lowercase hex SHA-256 of the whole
// token text, in a ledger::Token with a role.
//
// Thread-safety: the functions are pure, or use the process's random source (thread-safe).
#pragma once

#include <string>
#include <string_view>

#include "ledger/ledger.h"
#include "record/context.h"
#include "record/json_fields.h"
#include "record/requests.h"

namespace clawback::record {

inline constexpr std::string_view kTokenPrefix = "cbk_";

// A fresh token: "cbk_" + base64url(32 random bytes), 47 characters.
std::string GenerateToken();
// Lowercase hex SHA-256 of the token text (what ledger::Token::hash holds).
std::string HashToken(std::string_view token);
// A ledger::Token record for a new token (fresh UUIDv7 id, hash, role, creation time).
ledger::Token MakeTokenRecord(std::string_view token, std::string name, ledger::Role role,
                              int64_t created_at_ms);

// A token's public document (never the token or its hash):
// {"id", "name", "role", "created", "last_used" (null: never), "revoked"}.
Json TokenToJson(const ledger::Token& t);

// POST /v1/tokens {"role": "viewer|ingest|operator|admin", "name"?}: answers
// {"token", "id", "name", "role"}; the token text is in this answer only.
bool BuildTokenCreateJob(const Json& body, const RequestInfo& info, PrepareFn* out, FieldError* err);
// POST /v1/tokens/{id}/revoke: answers TokenToJson + "already_revoked". Revoking twice is
// not an error (nothing more is written).
bool BuildTokenRevokeJob(std::string_view id, const RequestInfo& info, PrepareFn* out,
                         FieldError* err);

}  // namespace clawback::record
