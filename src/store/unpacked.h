// Unpacked files — index, snapshot and lock files (restic format spec §6):
//   file = IV || AES-CTR(Q) || MAC,  Q = 0x02 || zstd(JSON)   (v2; what we write)
// A reader also accepts Q that starts with '{' or '[' (raw JSON, v1 and legacy v2).
// The file's name is sha256(file).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "store/crypto/crypto.h"

namespace clawback::store {

// Seals `json`, zstd-compressed with the 0x02 version byte when `compress` (always for v2
// repositories), raw otherwise.
std::string EncodeUnpacked(const Key& key, std::string_view json, bool compress = true,
                           int level = 3);
// Opens and, for 0x02, decompresses. Corruption for a bad MAC, an empty payload or an
// unknown encoding byte.
Result<std::string> DecodeUnpacked(const Key& key, std::string_view file);

}  // namespace clawback::store
