#include "store/id.h"

#include <openssl/evp.h>

#include <algorithm>

#include "store/crypto/sha256_pair.h"

namespace clawback::store {
namespace {

const EVP_MD* Sha256Md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  CLAWBACK_CHECK(md != nullptr);
  return md;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char kHexDigits[] = "0123456789abcdef";

}  // namespace

Result<Id> Id::Parse(std::string_view hex) {
  if (hex.size() != 2 * kSize) {
    return InvalidArgument("invalid id \"" + std::string(hex.substr(0, 80)) + "\": want 64 hex digits, got " +
                           std::to_string(hex.size()) + " characters");
  }
  Id id;
  for (size_t i = 0; i < kSize; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument("invalid id \"" + std::string(hex) + "\": not hex");
    id.bytes_[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return id;
}

Id Id::Hash(std::string_view data) {
  Id id;
  unsigned int len = 0;
  CLAWBACK_CHECK(EVP_Digest(data.data(), data.size(), id.bytes_.data(), &len, Sha256Md(), nullptr) == 1);
  return id;
}

void Id::HashPair(std::string_view data_a, std::string_view data_b, Id* a, Id* b) {
  Sha256Pair(data_a, data_b, a->bytes_.data(), b->bytes_.data());
}

std::string Id::Hex() const {
  return ToHex(std::string_view(reinterpret_cast<const char*>(bytes_.data()), kSize));
}

bool Id::IsNull() const {
  return std::all_of(bytes_.begin(), bytes_.end(), [](uint8_t b) { return b == 0; });
}

bool IdHasPrefix(const Id& id, std::string_view prefix) {
  if (prefix.size() > 2 * Id::kSize) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    int v = HexValue(prefix[i]);
    if (v < 0) return false;
    uint8_t b = id.data()[i / 2];
    int nibble = (i % 2 == 0) ? (b >> 4) : (b & 0xf);
    if (nibble != v) return false;
  }
  return true;
}

Result<Id> FindUniqueByPrefix(const std::vector<Id>& ids, std::string_view prefix) {
  if (prefix.empty()) return InvalidArgument("empty id prefix");
  for (char c : prefix) {
    if (HexValue(c) < 0) return InvalidArgument("id prefix \"" + std::string(prefix) + "\" is not hex");
  }
  const Id* found = nullptr;
  size_t matches = 0;
  for (const Id& id : ids) {
    if (IdHasPrefix(id, prefix)) {
      // The same id listed twice is one match.
      if (found != nullptr && *found == id) continue;
      found = &id;
      ++matches;
    }
  }
  if (matches == 0) return NotFound("no id begins with \"" + std::string(prefix) + "\"");
  if (matches > 1) {
    return InvalidArgument("id prefix \"" + std::string(prefix) + "\" is ambiguous: " +
                           std::to_string(matches) + " matches");
  }
  return *found;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  CLAWBACK_CHECK(ctx_ != nullptr);
  CLAWBACK_CHECK(EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), Sha256Md(), nullptr) == 1);
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::Update(std::string_view data) {
  CLAWBACK_CHECK(EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size()) == 1);
}

Id Sha256::Final() {
  Id id;
  unsigned int len = 0;
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  CLAWBACK_CHECK(EVP_DigestFinal_ex(ctx, id.mutable_data(), &len) == 1);
  CLAWBACK_CHECK(EVP_DigestInit_ex(ctx, Sha256Md(), nullptr) == 1);
  return id;
}

std::string ToHex(std::string_view bytes) {
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<uint8_t>(bytes[i]);
    out[2 * i] = kHexDigits[b >> 4];
    out[2 * i + 1] = kHexDigits[b & 0xf];
  }
  return out;
}

Result<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return InvalidArgument("odd number of hex digits");
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument("not hex: \"" + std::string(hex.substr(0, 80)) + "\"");
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

}  // namespace clawback::store
