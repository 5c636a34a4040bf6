// Small helpers shared by the backend implementations: name validation and object paths.
//
// Every backend accepts exactly the names a restic repository contains (format spec
// section 1): "config" for FileType::kConfig, and a 64-digit lowercase hex ID for every
// other type. Anything else (a path, "..", a temporary file) is InvalidArgument on
// Save/Load/Stat/Remove and is skipped by List, as restic's listing skips it.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "store/backend/backend.h"

namespace clawback::store {

// Whether `name` is a 64-digit lowercase hex string.
bool IsHexId(std::string_view name);

// OK when `name` is a valid file name for type `t` ("config" or "" for kConfig).
Status ValidateName(FileType t, std::string_view name);

// The file's path relative to the repository root: "config", "keys/<id>",
// "data/<id[0:2]>/<id>".
std::string ObjectPath(FileType t, std::string_view name);

// "config", "key", "lock", "snapshot", "index", "pack": for messages.
std::string_view FileTypeName(FileType t);

}  // namespace clawback::store
