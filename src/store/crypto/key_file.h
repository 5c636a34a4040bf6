// Key files: keys/<sha256 of the file>, plain JSON holding the master key sealed with a
// password-derived user key (restic format spec §3).
//
// {"created":"…","username":"…","hostname":"…","kdf":"scrypt","N":32768,"r":8,"p":5,
//  "salt":"<b64, 64 bytes>","data":"<b64 of IV||C||MAC>"}
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/crypto/crypto.h"
#include "store/encoding/go_json.h"

namespace clawback::store {

struct KdfParams {
  uint64_t n = 32768;
  uint32_t r = 8;
  uint32_t p = 1;
};

struct KeyFile {
  Timestamp created;
  std::string username;
  std::string hostname;
  std::string kdf = "scrypt";
  KdfParams params;
  std::string salt;  // raw bytes, 64 of them
  std::string data;  // raw sealed master key JSON

  // Compact JSON in restic's field order (the bytes whose SHA-256 names the file).
  std::string ToJson() const;
  // Corruption for malformed JSON, an unknown KDF or a salt that is not 64 bytes: restic
  // aborts the key search on these instead of trying the next key.
  static Result<KeyFile> Parse(std::string_view json);
};

// Derives the user key from `password` and unseals the master key. WrongPassword when the
// MAC does not verify; Corruption for a damaged key file.
Result<Key> OpenKeyFile(const KeyFile& file, std::string_view password);

// A new key file wrapping `master` under `password` with a random salt.
Result<KeyFile> CreateKeyFile(const Key& master, std::string_view password, const KdfParams& params,
                              std::string username, std::string hostname);

// The scrypt parameters restic's calibration would pick on this machine: N = 2^15, r = 8,
// and p raised until deriving the p lanes one after the other takes about `target_ms`
// (restic aims at 500 ms and 60 MiB), at most 16. Never below N=32768, r=8, p=1.
KdfParams CalibrateKdf(int target_ms = 500);

}  // namespace clawback::store
