#include "store/snapshot.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace clawback::store {
namespace {

using Json = nlohmann::json;

Status Bad(const std::string& what) { return Corruption("snapshot: " + what); }

void AppendStringArray(std::string* out, const std::vector<std::string>& v) {
  out->push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out->push_back(',');
    AppendGoJsonString(out, v[i]);
  }
  out->push_back(']');
}

Result<std::vector<std::string>> GetStrings(const Json& v, const char* name) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  if (!v.is_array()) return Bad(std::string("\"") + name + "\" is not an array");
  for (const Json& s : v) {
    if (!s.is_string()) return Bad(std::string("\"") + name + "\" holds a non-string");
    out.push_back(s.get<std::string>());
  }
  return out;
}

Result<Id> GetId(const Json& v, const char* name) {
  if (!v.is_string()) return Bad(std::string("\"") + name + "\" is not an id");
  auto id = Id::Parse(v.get_ref<const std::string&>());
  if (!id.ok()) return Bad(std::string(name) + ": " + id.status().message());
  return *id;
}

}  // namespace

bool Snapshot::HasTag(std::string_view tag) const {
  return std::find(tags.begin(), tags.end(), tag) != tags.end();
}

std::string Snapshot::ToJson() const {
  std::string out = "{\"time\":";
  AppendGoJsonString(&out, time.ToRfc3339());
  if (parent) out += ",\"parent\":\"" + parent->Hex() + "\"";
  out += ",\"tree\":\"" + tree.Hex() + "\",\"paths\":";
  AppendStringArray(&out, paths);
  if (!hostname.empty()) {
    out += ",\"hostname\":";
    AppendGoJsonString(&out, hostname);
  }
  if (!username.empty()) {
    out += ",\"username\":";
    AppendGoJsonString(&out, username);
  }
  if (uid != 0) out += ",\"uid\":" + std::to_string(uid);
  if (gid != 0) out += ",\"gid\":" + std::to_string(gid);
  if (!excludes.empty()) {
    out += ",\"excludes\":";
    AppendStringArray(&out, excludes);
  }
  if (!tags.empty()) {
    out += ",\"tags\":";
    AppendStringArray(&out, tags);
  }
  if (original) out += ",\"original\":\"" + original->Hex() + "\"";
  if (!program_version.empty()) {
    out += ",\"program_version\":";
    AppendGoJsonString(&out, program_version);
  }
  if (!summary.empty()) out += ",\"summary\":" + summary;
  out += "}";
  return out;
}

Result<Snapshot> Snapshot::Parse(std::string_view json) {
  auto j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Bad("invalid JSON");
  Snapshot s;
  bool have_tree = false;
  try {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      const Json& v = it.value();
      if (k == "time") {
        if (!v.is_string()) return Bad("\"time\" is not a string");
        auto t = Timestamp::Parse(v.get_ref<const std::string&>());
        if (!t.ok()) return Bad(t.status().message());
        s.time = *t;
      } else if (k == "parent") {
        if (v.is_null()) continue;
        ASSIGN_OR_RETURN(auto id, GetId(v, "parent"));
        s.parent = id;
      } else if (k == "tree") {
        if (v.is_null()) continue;
        ASSIGN_OR_RETURN(s.tree, GetId(v, "tree"));
        have_tree = true;
      } else if (k == "paths") {
        ASSIGN_OR_RETURN(s.paths, GetStrings(v, "paths"));
      } else if (k == "hostname" || k == "username" || k == "program_version") {
        if (v.is_null()) continue;
        if (!v.is_string()) return Bad("\"" + k + "\" is not a string");
        (k == "hostname" ? s.hostname : k == "username" ? s.username : s.program_version) = v.get<std::string>();
      } else if (k == "uid" || k == "gid") {
        if (v.is_null()) continue;
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > UINT32_MAX) {
          return Bad("\"" + k + "\" is not a uint32");
        }
        (k == "uid" ? s.uid : s.gid) = static_cast<uint32_t>(v.get<int64_t>());
      } else if (k == "excludes") {
        ASSIGN_OR_RETURN(s.excludes, GetStrings(v, "excludes"));
      } else if (k == "tags") {
        ASSIGN_OR_RETURN(s.tags, GetStrings(v, "tags"));
      } else if (k == "original") {
        if (v.is_null()) continue;
        ASSIGN_OR_RETURN(auto id, GetId(v, "original"));
        s.original = id;
      } else if (k == "summary") {
        if (v.is_null()) continue;
        if (!v.is_object()) return Bad("\"summary\" is not an object");
        s.summary = v.dump();
      }
    }
  } catch (const Json::exception& e) {
    return Bad(e.what());
  }
  if (!have_tree) return Bad("no tree");
  if (s.tree.IsNull()) return Bad("null tree id");
  return s;
}

}  // namespace clawback::store
