#include "store/crypto/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "common/uuid.h"
#include "store/crypto/scrypt.h"
#include "store/encoding/go_json.h"

namespace clawback::store {
namespace {

constexpr uint8_t kRMask[16] = {0xff, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f,
                                0xfc, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f};

const EVP_CIPHER* Aes256Ctr() {
  static const EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-CTR", nullptr);
  CLAWBACK_CHECK(c != nullptr);
  return c;
}
const EVP_CIPHER* Aes128Ecb() {
  static const EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
  CLAWBACK_CHECK(c != nullptr);
  return c;
}
EVP_MAC* Poly1305Mac() {
  static EVP_MAC* m = EVP_MAC_fetch(nullptr, "POLY1305", nullptr);
  CLAWBACK_CHECK(m != nullptr);
  return m;
}

// Per-thread reusable contexts: creating them per blob costs more than the work on small blobs.
struct ThreadContexts {
  EVP_CIPHER_CTX* ctr = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* ecb = EVP_CIPHER_CTX_new();
  EVP_MAC_CTX* mac = EVP_MAC_CTX_new(Poly1305Mac());
  ~ThreadContexts() {
    EVP_CIPHER_CTX_free(ctr);
    EVP_CIPHER_CTX_free(ecb);
    EVP_MAC_CTX_free(mac);
  }
};
ThreadContexts& Contexts() {
  thread_local ThreadContexts ctx;
  CLAWBACK_CHECK(ctx.ctr != nullptr && ctx.ecb != nullptr && ctx.mac != nullptr);
  return ctx;
}

void AesCtr(const Key& key, const uint8_t* iv, const uint8_t* in, size_t n, uint8_t* out) {
  EVP_CIPHER_CTX* c = Contexts().ctr;
  CLAWBACK_CHECK(EVP_EncryptInit_ex2(c, Aes256Ctr(), key.encrypt.data(), iv, nullptr) == 1);
  size_t done = 0;
  while (done < n) {
    // EVP takes int lengths.
    int chunk = static_cast<int>(std::min<size_t>(n - done, size_t{1} << 30));
    int outl = 0;
    CLAWBACK_CHECK(EVP_EncryptUpdate(c, out + done, &outl, in + done, chunk) == 1);
    done += static_cast<size_t>(chunk);
  }
}

std::string KeyPart(const uint8_t* p, size_t n) { return std::string(reinterpret_cast<const char*>(p), n); }

}  // namespace

Key Key::Random() {
  Key k;
  do {
    RandomBytes(k.encrypt.data(), k.encrypt.size());
    RandomBytes(k.mac_k.data(), k.mac_k.size());
    RandomBytes(k.mac_r.data(), k.mac_r.size());
    for (size_t i = 0; i < 16; ++i) k.mac_r[i] &= kRMask[i];
  } while (!k.Valid());
  return k;
}

Key Key::FromParts(std::string_view encrypt, std::string_view mac_k, std::string_view mac_r) {
  CLAWBACK_CHECK(encrypt.size() == 32 && mac_k.size() == 16 && mac_r.size() == 16);
  Key k;
  std::memcpy(k.encrypt.data(), encrypt.data(), 32);
  std::memcpy(k.mac_k.data(), mac_k.data(), 16);
  for (size_t i = 0; i < 16; ++i) k.mac_r[i] = static_cast<uint8_t>(mac_r[i]) & kRMask[i];
  return k;
}

bool Key::Valid() const {
  auto zero = [](const auto& a) { return std::all_of(a.begin(), a.end(), [](uint8_t b) { return b == 0; }); };
  return !zero(encrypt) && !zero(mac_k) && !zero(mac_r);
}

std::string Key::ToJson() const {
  std::string out = "{\"mac\":{\"k\":";
  AppendGoJsonString(&out, Base64Encode(KeyPart(mac_k.data(), 16)));
  out += ",\"r\":";
  AppendGoJsonString(&out, Base64Encode(KeyPart(mac_r.data(), 16)));
  out += "},\"encrypt\":";
  AppendGoJsonString(&out, Base64Encode(KeyPart(encrypt.data(), 32)));
  out += "}";
  return out;
}

Result<Key> Key::FromJson(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Corruption("master key: invalid JSON");
  auto field = [](const nlohmann::json& o, const char* name) -> const nlohmann::json* {
    auto it = o.find(name);
    if (it == o.end() || !it->is_string()) return nullptr;
    return &*it;
  };
  auto mac = j.find("mac");
  if (mac == j.end() || !mac->is_object()) return Corruption("master key: no \"mac\" object");
  const auto* k = field(*mac, "k");
  const auto* r = field(*mac, "r");
  const auto* e = field(j, "encrypt");
  if (!k || !r || !e) return Corruption("master key: missing mac.k, mac.r or encrypt");
  auto kb = Base64Decode(k->get_ref<const std::string&>());
  auto rb = Base64Decode(r->get_ref<const std::string&>());
  auto eb = Base64Decode(e->get_ref<const std::string&>());
  if (!kb.ok() || !rb.ok() || !eb.ok() || kb->size() != 16 || rb->size() != 16 || eb->size() != 32) {
    return Corruption("master key: bad key lengths or base64");
  }
  Key key = FromParts(*eb, *kb, *rb);
  if (!key.Valid()) return Corruption("master key: all-zero key part");
  return key;
}

std::array<uint8_t, 16> Poly1305Aes(const Key& key, const uint8_t* iv, std::string_view message) {
  ThreadContexts& ctx = Contexts();
  uint8_t mac_key[32];
  std::memcpy(mac_key, key.mac_r.data(), 16);
  int outl = 0;
  CLAWBACK_CHECK(EVP_EncryptInit_ex2(ctx.ecb, Aes128Ecb(), key.mac_k.data(), nullptr, nullptr) == 1);
  EVP_CIPHER_CTX_set_padding(ctx.ecb, 0);
  CLAWBACK_CHECK(EVP_EncryptUpdate(ctx.ecb, mac_key + 16, &outl, iv, 16) == 1 && outl == 16);
  CLAWBACK_CHECK(EVP_MAC_init(ctx.mac, mac_key, sizeof mac_key, nullptr) == 1);
  size_t done = 0;
  while (done < message.size()) {
    size_t chunk = std::min<size_t>(message.size() - done, size_t{1} << 30);
    CLAWBACK_CHECK(EVP_MAC_update(ctx.mac, reinterpret_cast<const unsigned char*>(message.data()) + done, chunk) == 1);
    done += chunk;
  }
  std::array<uint8_t, 16> tag;
  size_t taglen = 0;
  CLAWBACK_CHECK(EVP_MAC_final(ctx.mac, tag.data(), &taglen, tag.size()) == 1 && taglen == 16);
  OPENSSL_cleanse(mac_key, sizeof mac_key);
  return tag;
}

namespace {

// Writes at p: the IV (`iv`, or a fresh random non-zero one), the n bytes at src encrypted
// (src may be p + kIvSize: in place), then the MAC. p has room for n + kCryptoOverhead.
void SealAt(const Key& key, uint8_t* p, const uint8_t* src, size_t n, const uint8_t* iv) {
  if (iv != nullptr) {
    std::memcpy(p, iv, kIvSize);
  } else {
    do {
      RandomBytesPooled(p, kIvSize);
    } while (std::all_of(p, p + kIvSize, [](uint8_t b) { return b == 0; }));
  }
  AesCtr(key, p, src, n, p + kIvSize);
  auto tag = Poly1305Aes(key, p, std::string_view(reinterpret_cast<const char*>(p + kIvSize), n));
  std::memcpy(p + kIvSize + n, tag.data(), kMacSize);
}

}  // namespace

void SealAppend(const Key& key, std::string_view plaintext, std::string* out, const uint8_t* iv) {
  size_t base = out->size();
  out->resize(base + plaintext.size() + kCryptoOverhead);
  SealAt(key, reinterpret_cast<uint8_t*>(out->data() + base),
         reinterpret_cast<const uint8_t*>(plaintext.data()), plaintext.size(), iv);
}

void SealTo(const Key& key, const uint8_t* src, size_t n, uint8_t* out, const uint8_t* iv) {
  SealAt(key, out, src, n, iv);
}

void SealInPlace(const Key& key, std::string* buf, size_t offset, const uint8_t* iv) {
  CLAWBACK_CHECK(buf->size() >= offset + kIvSize);
  const size_t n = buf->size() - offset - kIvSize;
  buf->resize(buf->size() + kMacSize);
  auto* p = reinterpret_cast<uint8_t*>(buf->data() + offset);
  SealAt(key, p, p + kIvSize, n, iv);
}

std::string Seal(const Key& key, std::string_view plaintext, const uint8_t* iv) {
  std::string out;
  SealAppend(key, plaintext, &out, iv);
  return out;
}

Status OpenInto(const Key& key, std::string_view sealed, std::string* plaintext) {
  if (sealed.size() < kCryptoOverhead) return Corruption("ciphertext verification failed: too short");
  const auto* p = reinterpret_cast<const uint8_t*>(sealed.data());
  if (std::all_of(p, p + kIvSize, [](uint8_t b) { return b == 0; })) {
    return Corruption("ciphertext verification failed: all-zero nonce");
  }
  size_t n = sealed.size() - kCryptoOverhead;
  std::string_view ct = sealed.substr(kIvSize, n);
  auto tag = Poly1305Aes(key, p, ct);
  if (CRYPTO_memcmp(tag.data(), p + kIvSize + n, kMacSize) != 0) {
    return Corruption("ciphertext verification failed");
  }
  plaintext->resize(n);
  AesCtr(key, p, reinterpret_cast<const uint8_t*>(ct.data()), n, reinterpret_cast<uint8_t*>(plaintext->data()));
  return Status::Ok();
}

Result<std::string> Open(const Key& key, std::string_view sealed) {
  std::string out;
  RETURN_IF_ERROR(OpenInto(key, sealed, &out));
  return out;
}

Result<std::array<uint8_t, 64>> Scrypt(std::string_view password, std::string_view salt, uint64_t n, uint32_t r,
                                       uint32_t p) {
  // The checks restic (via simple-scrypt) applies before deriving.
  if (n <= 1 || (n & (n - 1)) != 0) return InvalidArgument("scrypt: N must be a power of two > 1");
  if (r < 1 || p < 1) return InvalidArgument("scrypt: r and p must be >= 1");
  if (uint64_t{r} * p >= (uint64_t{1} << 30)) return InvalidArgument("scrypt: r*p too large");
  if (uint64_t{128} * r * n > 0x7fffffff || uint64_t{128} * r * p > 0x7fffffff) {
    return InvalidArgument("scrypt: parameters too large");
  }
  std::array<uint8_t, 64> dk;
  RETURN_IF_ERROR(ScryptDerive(password, salt, n, r, p, dk.data(), dk.size()));
  return dk;
}

Key KeyFromScrypt(const std::array<uint8_t, 64>& dk) {
  auto s = [&](size_t off, size_t len) { return std::string_view(reinterpret_cast<const char*>(dk.data()) + off, len); };
  return Key::FromParts(s(0, 32), s(32, 16), s(48, 16));
}

}  // namespace clawback::store
