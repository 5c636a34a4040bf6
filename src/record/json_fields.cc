#include "record/json_fields.h"

#include "common/clock.h"

namespace clawback::record {
namespace {

const char* TypeName(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a number";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    default: return "an unsupported value";
  }
}

// The member or nullptr; a JSON null counts as absent.
const Json* Member(const Json& obj, const std::string& key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

bool Missing(const std::string& field, bool required, FieldError* err) {
  if (!required) return true;
  *err = Invalid(field, "is required");
  return false;
}

bool WrongType(const std::string& field, const char* want, const Json& got, FieldError* err) {
  *err = Invalid(field, std::string("expected ") + want + ", got " + TypeName(got));
  return false;
}

}  // namespace

std::string Path(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

std::string Path(const std::string& prefix, size_t index) {
  return prefix + "[" + std::to_string(index) + "]";
}

FieldError Invalid(const std::string& field, const std::string& problem) {
  std::string m = field.empty() ? problem : "field \"" + field + "\" " + problem;
  return FieldError{InvalidArgument(std::move(m)), field};
}

bool ReadString(const Json& obj, const std::string& prefix, const std::string& key, bool required,
                std::string* out, FieldError* err) {
  const Json* m = Member(obj, key);
  std::string field = Path(prefix, key);
  if (!m) return Missing(field, required, err);
  if (!m->is_string()) return WrongType(field, "a string", *m, err);
  *out = m->get<std::string>();
  if (required && out->empty()) {
    *err = Invalid(field, "must not be empty");
    return false;
  }
  return true;
}

bool ReadInt(const Json& obj, const std::string& prefix, const std::string& key, bool required,
             std::optional<int64_t>* out, FieldError* err) {
  const Json* m = Member(obj, key);
  std::string field = Path(prefix, key);
  if (!m) return Missing(field, required, err);
  if (m->is_number_integer()) {
    *out = m->get<int64_t>();
    return true;
  }
  if (m->is_number_unsigned()) {
    uint64_t u = m->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) {
      *err = Invalid(field, "is out of range");
      return false;
    }
    *out = static_cast<int64_t>(u);
    return true;
  }
  if (m->is_number_float()) {
    double d = m->get<double>();
    // Integral floats (OpenClaw sends durations as JS numbers) are accepted.
    if (d == static_cast<double>(static_cast<int64_t>(d)) && d > -9e18 && d < 9e18) {
      *out = static_cast<int64_t>(d);
      return true;
    }
  }
  return WrongType(field, "an integer", *m, err);
}

bool ReadObject(const Json& obj, const std::string& prefix, const std::string& key, bool required,
                Json* out, FieldError* err) {
  const Json* m = Member(obj, key);
  std::string field = Path(prefix, key);
  if (!m) return Missing(field, required, err);
  if (!m->is_object()) return WrongType(field, "an object", *m, err);
  *out = *m;
  return true;
}

bool TakeObject(Json* obj, const std::string& prefix, const std::string& key, bool required,
                Json* out, FieldError* err) {
  auto it = obj->find(key);
  std::string field = Path(prefix, key);
  if (it == obj->end() || it->is_null()) return Missing(field, required, err);
  if (!it->is_object()) return WrongType(field, "an object", *it, err);
  *out = std::move(*it);  // leaves null behind
  return true;
}

bool ReadStringArray(const Json& obj, const std::string& prefix, const std::string& key,
                     bool required, std::vector<std::string>* out, FieldError* err) {
  const Json* m = Member(obj, key);
  std::string field = Path(prefix, key);
  if (!m) return Missing(field, required, err);
  if (!m->is_array()) return WrongType(field, "an array of strings", *m, err);
  std::vector<std::string> v;
  for (size_t i = 0; i < m->size(); ++i) {
    if (!(*m)[i].is_string()) return WrongType(Path(field, i), "a string", (*m)[i], err);
    v.push_back((*m)[i].get<std::string>());
  }
  *out = std::move(v);
  return true;
}

bool ReadUuid(const Json& obj, const std::string& prefix, const std::string& key, bool required,
              std::optional<Uuid>* out, FieldError* err) {
  std::string s;
  if (!ReadString(obj, prefix, key, required, &s, err)) return false;
  if (s.empty()) return true;
  std::optional<Uuid> id = Uuid::Parse(s);
  if (!id) {
    *err = Invalid(Path(prefix, key), "is not a UUID");
    return false;
  }
  *out = *id;
  return true;
}

bool ReadTime(const Json& obj, const std::string& prefix, const std::string& key,
              std::optional<int64_t>* out_ms, FieldError* err) {
  const Json* m = Member(obj, key);
  std::string field = Path(prefix, key);
  if (!m) return true;
  if (m->is_string()) {
    int64_t ms = 0;
    if (!ParseRfc3339Millis(m->get<std::string>(), &ms)) {
      *err = Invalid(field, "is not an RFC 3339 time");
      return false;
    }
    *out_ms = ms;
    return true;
  }
  if (m->is_number()) return ReadInt(obj, prefix, key, false, out_ms, err);
  return WrongType(field, "an RFC 3339 string or Unix milliseconds", *m, err);
}

const Json* GetPath(const Json& j, std::initializer_list<const char*> path) {
  const Json* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string GetString(const Json& j, std::initializer_list<const char*> path) {
  const Json* v = GetPath(j, path);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

}  // namespace clawback::record
