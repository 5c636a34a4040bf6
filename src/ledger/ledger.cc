// What both backends share: role names, the event chain's canonical bytes and hash, and
// OpenLedger (docs/format/ledger-schema.md describes the chain).
#include "ledger/ledger.h"

#include "common/utf8.h"

#include <openssl/evp.h>

#include <charconv>

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

namespace {

std::string LibraryDump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Appends `s` as a JSON string, byte for byte as the library's dump writes it (escapes for
// '"', '\\' and control characters, other bytes as they are). Returns false, having appended
// nothing, when `s` is not valid UTF-8: the library's dump then replaces the bad bytes.
bool AppendEscaped(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  const size_t start = out->size();
  out->push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t run = 0, i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(p + i, n - i);
      if (len == 0) {
        out->resize(start);
        return false;
      }
      i += len;
      continue;
    }
    out->append(s.data() + run, i - run);
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        *out += "\\u00";
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
    run = ++i;
  }
  out->append(s.data() + run, n - run);
  out->push_back('"');
  return true;
}

template <typename Int>
void AppendInt(Int v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}

}  // namespace

void AppendJson(const Json& j, std::string* out) {
  switch (j.type()) {
    case Json::value_t::null:
      *out += "null";
      return;
    case Json::value_t::boolean:
      *out += j.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_integer:
      AppendInt(j.get<int64_t>(), out);
      return;
    case Json::value_t::number_unsigned:
      AppendInt(j.get<uint64_t>(), out);
      return;
    case Json::value_t::string:
      AppendJsonString(j.get_ref<const std::string&>(), out);
      return;
    case Json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const Json& v : j.get_ref<const Json::array_t&>()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(v, out);
      }
      out->push_back(']');
      return;
    }
    case Json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, v] : j.get_ref<const Json::object_t&>()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(k, out);
        out->push_back(':');
        AppendJson(v, out);
      }
      out->push_back('}');
      return;
    }
    default:  // floating point (the library's shortest round-trip form), binary, discarded
      *out += LibraryDump(j);
      return;
  }
}

void AppendJsonString(std::string_view s, std::string* out) {
  if (!AppendEscaped(s, out)) *out += LibraryDump(Json(std::string(s)));
}

std::string DumpJson(const Json& j) {
  std::string out;
  AppendJson(j, &out);
  return out;
}

namespace {

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
  AppendJsonString(e.kind, out);
  out->push_back(',');
  *out += std::to_string(e.time_ms);
  out->push_back(',');
  AppendJsonString(e.actor, out);
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

namespace {
// The digest context and the fetched algorithm are kept per thread: the writer hashes every
// event it appends (and every projection row it seals), and fetching SHA-256 anew per call
// (EVP_sha256() with EVP_Digest) costs more than the hash itself.
struct Hasher {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string input;  // reused input buffer
  ~Hasher() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
  std::string HexDigest(std::string_view bytes) {
    CLAWBACK_CHECK(md != nullptr && ctx != nullptr);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    CLAWBACK_CHECK(EVP_DigestInit_ex(ctx, md, nullptr) == 1 &&
                   EVP_DigestUpdate(ctx, bytes.data(), bytes.size()) == 1 &&
                   EVP_DigestFinal_ex(ctx, digest, &len) == 1);
    return HexEncode(digest, len);
  }
};
thread_local Hasher hasher;
}  // namespace

std::string Sha256Hex(std::string_view bytes) { return hasher.HexDigest(bytes); }

std::string ChainHashWithAttributes(const std::string& prev_hash_hex, const Event& e,
                                    const std::string& attributes_json) {
  std::string& input = hasher.input;
  input.assign(prev_hash_hex);
  AppendCanonicalEventBytes(e, attributes_json, &input);
  std::string hash = hasher.HexDigest(input);
  if (input.capacity() > (1u << 20)) std::string().swap(input);  // a huge event's buffer
  return hash;
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
