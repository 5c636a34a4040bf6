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

// Appends `s` as a JSON string, exactly as DumpJson(Json(s)) would.
void AppendJsonString(std::string* out, const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {  // escapes or UTF-8: the library
      *out += DumpJson(Json(s));
      return;
    }
  }
  *out += '"';
  *out += s;
  *out += '"';
}

void AppendUuid(std::string* out, const Uuid& id) {
  out->push_back('"');
  *out += id.ToString();
  out->push_back('"');
}

}  // namespace

std::string CanonicalEventBytesWithAttributes(const Event& e, const std::string& attributes_json) {
  std::string out;
  AppendCanonicalEventBytes(e, attributes_json, &out);
  return out;
}

void AppendCanonicalEventBytes(const Event& e, const std::string& attributes_json,
                               std::string* out) {
  // A compact JSON array; the field order is fixed and versioned by its first element.
  out->reserve(out->size() + 160 + e.kind.size() + e.actor.size() + attributes_json.size());
  *out += "[\"clawback.event.v1\",";
  *out += std::to_string(e.seq);
  out->push_back(',');
  AppendUuid(out, e.id);
  out->push_back(',');
  if (e.conversation_id) {
    AppendUuid(out, *e.conversation_id);
  } else {
    *out += "null";
  }
  out->push_back(',');
  AppendJsonString(out, e.kind);
  out->push_back(',');
  *out += std::to_string(e.time_ms);
  out->push_back(',');
  AppendJsonString(out, e.actor);
  out->push_back(',');
  *out += attributes_json;
  out->push_back(']');
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
  // The input buffer, the digest context and the fetched algorithm are kept per thread: the
  // writer hashes every event it appends, and fetching SHA-256 anew per call (EVP_sha256()
  // with EVP_Digest) and allocating the input cost more than the hash itself.
  struct Hasher {
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::string input;
    ~Hasher() {
      EVP_MD_CTX_free(ctx);
      EVP_MD_free(md);
    }
  };
  thread_local Hasher h;
  CLAWBACK_CHECK(h.md != nullptr && h.ctx != nullptr);
  h.input.assign(prev_hash_hex);
  AppendCanonicalEventBytes(e, attributes_json, &h.input);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CLAWBACK_CHECK(EVP_DigestInit_ex(h.ctx, h.md, nullptr) == 1 &&
                 EVP_DigestUpdate(h.ctx, h.input.data(), h.input.size()) == 1 &&
                 EVP_DigestFinal_ex(h.ctx, digest, &len) == 1);
  if (h.input.capacity() > (1u << 20)) std::string().swap(h.input);  // a huge event's buffer
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
