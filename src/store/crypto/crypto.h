// Authenticated encryption exactly as restic does it (restic format spec §3–§4):
// AES-256-CTR with a random 16-byte IV, then Poly1305-AES over the ciphertext,
//   sealed = IV(16) || AES-256-CTR(K_enc, IV, P) || Poly1305(r || AES-128(K_mac_k, IV), C)(16)
// plus the scrypt KDF that turns a password into a user key. Via OpenSSL 3, except scrypt's
// ROMix lanes (scrypt.h).
//
// Thread-safety: Key is a value; every function is safe to call from many threads at once
// (each call uses its own OpenSSL contexts).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/uuid.h"

namespace clawback::store {

// Bytes a sealed object has on top of its plaintext: the IV and the MAC.
inline constexpr size_t kCryptoOverhead = 32;
inline constexpr size_t kIvSize = 16;
inline constexpr size_t kMacSize = 16;

struct Key {
  std::array<uint8_t, 32> encrypt{};  // AES-256 key
  std::array<uint8_t, 16> mac_k{};    // AES-128 key that encrypts the IV into Poly1305's s
  std::array<uint8_t, 16> mac_r{};    // Poly1305 r, kept clamped

  // A fresh random key (a new repository's master key).
  static Key Random();
  // Builds a key from raw parts; `mac_r` is clamped here.
  static Key FromParts(std::string_view encrypt, std::string_view mac_k, std::string_view mac_r);
  // restic refuses keys whose encrypt or MAC parts are all zero.
  bool Valid() const;

  // The master key's JSON as restic writes it inside a key file:
  // {"mac":{"k":"<b64>","r":"<b64>"},"encrypt":"<b64>"}
  std::string ToJson() const;
  static Result<Key> FromJson(std::string_view json);
};

// Cryptographically random bytes: common/uuid.h's RandomBytes (aborts if the CSPRNG fails).
using ::clawback::RandomBytes;

// Appends IV || C || T for `plaintext` to *out. `iv` (16 bytes) is only for test vectors;
// normally a fresh random IV is drawn. An all-zero IV is never used.
void SealAppend(const Key& key, std::string_view plaintext, std::string* out, const uint8_t* iv = nullptr);
std::string Seal(const Key& key, std::string_view plaintext, const uint8_t* iv = nullptr);
// The same in place: (*buf)[offset, offset+16) is room for the IV and the rest of *buf the
// plaintext; encrypts it where it is and appends the MAC (no second buffer).
// REQUIRES: buf->size() >= offset + kIvSize.
void SealInPlace(const Key& key, std::string* buf, size_t offset, const uint8_t* iv = nullptr);

// The same into a raw buffer: writes IV || C || MAC for the n bytes at `src` to
// out[0, n + kCryptoOverhead). `src` may be out + kIvSize (in place); otherwise the two
// must not overlap.
void SealTo(const Key& key, const uint8_t* src, size_t n, uint8_t* out, const uint8_t* iv = nullptr);

// Verifies the MAC (constant time) and only then decrypts. Corruption("ciphertext
// verification failed") on a bad MAC, a too-short input or an all-zero IV.
Status OpenInto(const Key& key, std::string_view sealed, std::string* plaintext);
Result<std::string> Open(const Key& key, std::string_view sealed);

// Poly1305-AES tag of `message` with nonce `iv` (exposed for tests).
std::array<uint8_t, 16> Poly1305Aes(const Key& key, const uint8_t* iv, std::string_view message);

// scrypt (RFC 7914) with a 64-byte output; InvalidArgument for parameters restic rejects.
// The p lanes are derived side by side on up to one thread per core (scrypt.h): same
// parameters and result, a fraction of the wall time.
Result<std::array<uint8_t, 64>> Scrypt(std::string_view password, std::string_view salt, uint64_t n, uint32_t r,
                                       uint32_t p);
// The user key restic derives from a password: dk[0:32] encrypt, [32:48] mac.k, [48:64] mac.r.
Key KeyFromScrypt(const std::array<uint8_t, 64>& dk);

}  // namespace clawback::store
