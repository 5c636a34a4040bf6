// The repository config (restic format spec §5): the file "config", sealed with the master
// key, never compressed, holding {"version":2,"id":"<64 hex>","chunker_polynomial":"<hex>"}.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/crypto/crypto.h"

namespace clawback::store {

struct RepoConfig {
  int version = 2;
  std::string id;                   // 64 hex digits from 32 random bytes
  uint64_t chunker_polynomial = 0;  // irreducible, degree 53

  // Compact JSON in restic's field order.
  std::string ToJson() const;
  // Corruption for bad JSON, a version other than 1 or 2, or a polynomial that is not
  // irreducible (restic refuses such repositories too).
  static Result<RepoConfig> Parse(std::string_view json);
  // A new version-2 config with a random id and a random irreducible polynomial.
  static RepoConfig New();
};

// Seals / opens the config file bytes.
std::string EncodeConfigFile(const Key& master, const RepoConfig& config);
Result<RepoConfig> DecodeConfigFile(const Key& master, std::string_view file);

}  // namespace clawback::store
