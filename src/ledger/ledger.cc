// What both backends share: role names, the event chain's canonical bytes and hash, and
// OpenLedger (docs/format/ledger-schema.md describes the chain).
#include "ledger/ledger.h"

#include <openssl/evp.h>

#include "ledger/ledger_internal.h"
#include "ledger/sqlite/sqlite_ledger.h"
#if CLAWBACK_HAVE_POSTGRES
#include "ledger/postgres/postgres_ledger.h"
#endif

namespace clawback::ledger {

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kViewer:
      return "viewer";
    case Role::kIngest:
      return "ingest";
    case Role::kOperator:
      return "operator";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

std::optional<Role> ParseRole(std::string_view s) {
  for (Role r : {Role::kViewer, Role::kIngest, Role::kOperator, Role::kAdmin}) {
    if (RoleName(r) == s) return r;
  }
  return std::nullopt;
}

std::string DumpJson(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

namespace {

std::string JsonString(const std::string& s) { return DumpJson(Json(s)); }

}  // namespace

std::string CanonicalEventBytesWithAttributes(const Event& e, const std::string& attributes_json) {
  // A compact JSON array; the field order is fixed and versioned by its first element.
  std::string out;
  out.reserve(160 + e.kind.size() + e.actor.size() + attributes_json.size());
  out += "[\"clawback.event.v1\",";
  out += std::to_string(e.seq);
  out += ",\"";
  out += e.id.ToString();
  out += "\",";
  out += e.conversation_id ? "\"" + e.conversation_id->ToString() + "\"" : std::string("null");
  out += ',';
  out += JsonString(e.kind);
  out += ',';
  out += std::to_string(e.time_ms);
  out += ',';
  out += JsonString(e.actor);
  out += ',';
  out += attributes_json;
  out += ']';
  return out;
}

std::string StoredAttributes(const Json& attributes) {
  if (attributes.is_object()) return DumpJson(attributes);
  if (attributes.is_null()) return "{}";
  return DumpJson(Json{{"value", attributes}});
}

std::string CanonicalEventBytes(const Event& e) {
  return CanonicalEventBytesWithAttributes(e, StoredAttributes(e.attributes));
}

std::string ChainHashWithAttributes(const std::string& prev_hash_hex, const Event& e,
                                    const std::string& attributes_json) {
  std::string input = prev_hash_hex;
  input += CanonicalEventBytesWithAttributes(e, attributes_json);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CLAWBACK_CHECK(EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr) == 1);
  return HexEncode(digest, len);
}

std::string ChainHash(const std::string& prev_hash_hex, const Event& e) {
  return ChainHashWithAttributes(prev_hash_hex, e, StoredAttributes(e.attributes));
}

Result<std::unique_ptr<Ledger>> OpenLedger(const std::string& url, const Clock& clock) {
  if (url.empty()) return InvalidArgument("ledger url is empty");
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
#if CLAWBACK_HAVE_POSTGRES
    return OpenPostgresLedger(url, clock);
#else
    return FailedPrecondition("ledger url " + url.substr(0, url.find(':')) +
                              "://…: this clawback was built without PostgreSQL support "
                              "(CLAWBACK_POSTGRES=OFF)");
#endif
  }
  std::string path = url;
  if (path.rfind("sqlite://", 0) == 0) {
    path = path.substr(9);
  } else if (path.rfind("sqlite:", 0) == 0) {
    path = path.substr(7);
  } else if (path.find("://") != std::string::npos) {
    return InvalidArgument("ledger url " + url +
                           ": unknown scheme (use sqlite:PATH, a path, or postgresql://…)");
  }
  if (path.empty()) return InvalidArgument("ledger url " + url + ": the SQLite path is empty");
  return OpenSqliteLedger(path, clock);
}

}  // namespace clawback::ledger
