#include "record/tokens.h"

#include <openssl/sha.h>

#include "common/clock.h"
#include "common/uuid.h"
#include "ledger/event_kinds.h"

namespace clawback::record {
namespace {

std::string Base64UrlNoPad(const uint8_t* data, size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((n * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = uint32_t{data[i]} << 16 | uint32_t{data[i + 1]} << 8 | data[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  if (n - i == 1) {
    uint32_t v = uint32_t{data[i]} << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (n - i == 2) {
    uint32_t v = uint32_t{data[i]} << 16 | uint32_t{data[i + 1]} << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

Json TokenEventAttributes(const ledger::Token& t) {
  return {{"token_id", t.id.ToString()}, {"name", t.name}, {"role", std::string(ledger::RoleName(t.role))}};
}

}  // namespace

std::string GenerateToken() {
  uint8_t raw[32];
  RandomBytes(raw, sizeof raw);
  return std::string(kTokenPrefix) + Base64UrlNoPad(raw, sizeof raw);
}

std::string HashToken(std::string_view token) {
  uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(token.data()), token.size(), md);
  return HexEncode(md, sizeof md);
}

ledger::Token MakeTokenRecord(std::string_view token, std::string name, ledger::Role role,
                              int64_t created_at_ms) {
  ledger::Token t;
  t.id = NewUuidV7();
  t.name = std::move(name);
  t.role = role;
  t.hash = HashToken(token);
  t.created_at_ms = created_at_ms;
  return t;
}

Json TokenToJson(const ledger::Token& t) {
  Json j = {{"id", t.id.ToString()},
            {"name", t.name},
            {"role", std::string(ledger::RoleName(t.role))},
            {"created", FormatRfc3339Millis(t.created_at_ms)},
            {"last_used", nullptr},
            {"revoked", t.revoked}};
  if (t.last_used_at_ms && *t.last_used_at_ms > 0) j["last_used"] = FormatRfc3339Millis(*t.last_used_at_ms);
  return j;
}

bool BuildTokenCreateJob(const Json& body, const RequestInfo& info, PrepareFn* out, FieldError* err) {
  if (!body.is_object()) {
    *err = Invalid("", "body must be a JSON object");
    return false;
  }
  std::string role_text, name;
  if (!ReadString(body, "", "role", true, &role_text, err)) return false;
  std::optional<ledger::Role> role = ledger::ParseRole(role_text);
  if (!role) {
    *err = Invalid("role", "\"" + role_text +
                               "\": expected viewer (reads), ingest (event writes), operator or admin");
    return false;
  }
  if (!ReadString(body, "", "name", false, &name, err)) return false;
  if (name.size() > 128) {
    *err = Invalid("name", "is longer than 128 characters");
    return false;
  }
  if (name.empty()) name = std::string(ledger::RoleName(*role));
  // The secret is made here, on the request's thread; only its hash reaches the writer.
  auto token = std::make_shared<std::string>(GenerateToken());
  auto record = std::make_shared<ledger::Token>(MakeTokenRecord(*token, name, *role, info.now_ms));
  std::string actor = info.actor;
  int64_t now = info.now_ms;
  *out = [token, record, actor, now](Context& ctx, ledger::WriteBatch* batch, Reply* reply) {
    batch->Add(*record);
    ledger::Event e;
    e.id = ctx.NewId();
    e.kind = ledger::kTokenCreate;
    e.time_ms = now;
    e.actor = actor;
    e.attributes = TokenEventAttributes(*record);
    batch->Add(std::move(e));
    reply->events = 1;
    reply->body = {{"token", *token},
                   {"id", record->id.ToString()},
                   {"name", record->name},
                   {"role", std::string(ledger::RoleName(record->role))}};
  };
  return true;
}

bool BuildTokenRevokeJob(std::string_view id_text, const RequestInfo& info, PrepareFn* out,
                         FieldError* err) {
  std::optional<Uuid> id = Uuid::Parse(id_text);
  if (!id) {
    *err = Invalid("id", "\"" + std::string(id_text) + "\" is not a token id (UUID)");
    return false;
  }
  std::string actor = info.actor;
  int64_t now = info.now_ms;
  Uuid want = *id;
  *out = [want, actor, now](Context& ctx, ledger::WriteBatch* batch, Reply* reply) {
    auto tokens = ctx.ledger().ListTokens();
    if (!tokens.ok()) {
      reply->status = tokens.status();
      return;
    }
    const ledger::Token* found = nullptr;
    for (const auto& t : *tokens)
      if (t.id == want) found = &t;
    if (!found) {
      reply->status = NotFound("no token has id " + want.ToString() + " (`clawback token list` shows them)");
      reply->field = "id";
      return;
    }
    ledger::Token t = *found;
    bool was_revoked = t.revoked;
    if (!was_revoked) {
      t.revoked = true;
      batch->Add(t);
      ledger::Event e;
      e.id = ctx.NewId();
      e.kind = ledger::kTokenRevoke;
      e.time_ms = now;
      e.actor = actor;
      e.attributes = TokenEventAttributes(t);
      batch->Add(std::move(e));
      reply->events = 1;
    }
    reply->body = TokenToJson(t);
    reply->body["already_revoked"] = was_revoked;
  };
  return true;
}

}  // namespace clawback::record
