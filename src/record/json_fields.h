// Small typed readers for JSON request bodies whose errors name the offending field
// ("deployments: field \"environment\": expected a string"), shared by every route's
// parser. A reader never throws: nlohmann::json accessors are only used after a type check.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/uuid.h"

namespace clawback::record {

using Json = nlohmann::json;

// A validation failure: the status (InvalidArgument, NotFound, …) and the dotted path of
// the field it is about ("" when it is about the whole body).
struct FieldError {
  Status status;
  std::string field;
};

// Joins a path and a key: Path("ctx", "trace") == "ctx.trace", Path("", "x") == "x".
std::string Path(const std::string& prefix, const std::string& key);
std::string Path(const std::string& prefix, size_t index);  // "items[3]"

FieldError Invalid(const std::string& field, const std::string& problem);

// Each reader returns false and fills *err when the field has the wrong type (or is
// missing and required). A missing optional field leaves *out untouched and returns true.
// `obj` must be an object.
bool ReadString(const Json& obj, const std::string& prefix, const std::string& key, bool required,
                std::string* out, FieldError* err);
bool ReadInt(const Json& obj, const std::string& prefix, const std::string& key, bool required,
             std::optional<int64_t>* out, FieldError* err);
bool ReadObject(const Json& obj, const std::string& prefix, const std::string& key, bool required,
                Json* out, FieldError* err);
// ReadObject that moves the member out of `obj` (leaving null) instead of copying it.
bool TakeObject(Json* obj, const std::string& prefix, const std::string& key, bool required,
                Json* out, FieldError* err);
bool ReadStringArray(const Json& obj, const std::string& prefix, const std::string& key,
                     bool required, std::vector<std::string>* out, FieldError* err);
bool ReadUuid(const Json& obj, const std::string& prefix, const std::string& key, bool required,
              std::optional<Uuid>* out, FieldError* err);
// A time: an RFC 3339 string, or an integer of Unix milliseconds.
bool ReadTime(const Json& obj, const std::string& prefix, const std::string& key,
              std::optional<int64_t>* out_ms, FieldError* err);

// Reads a string at a nested path without errors: Get(j, {"ctx","trace","traceId"}).
std::string GetString(const Json& j, std::initializer_list<const char*> path);
const Json* GetPath(const Json& j, std::initializer_list<const char*> path);

}  // namespace clawback::record
