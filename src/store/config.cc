#include "store/config.h"

#include <cinttypes>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "store/chunker/chunker.h"
#include "store/id.h"

namespace clawback::store {

std::string RepoConfig::ToJson() const {
  char pol[32];
  std::snprintf(pol, sizeof pol, "%" PRIx64, chunker_polynomial);
  return "{\"version\":" + std::to_string(version) + ",\"id\":\"" + id + "\",\"chunker_polynomial\":\"" + pol + "\"}";
}

Result<RepoConfig> RepoConfig::Parse(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Corruption("config: invalid JSON");
  RepoConfig c;
  auto v = j.find("version");
  if (v == j.end() || !v->is_number_integer()) return Corruption("config: missing version");
  int64_t version = v->get<int64_t>();
  if (version != 1 && version != 2) {
    return Corruption("config: unsupported repository version " + std::to_string(version));
  }
  c.version = static_cast<int>(version);
  auto id = j.find("id");
  if (id == j.end() || !id->is_string()) return Corruption("config: missing id");
  c.id = id->get<std::string>();
  auto pol = j.find("chunker_polynomial");
  if (pol == j.end() || !pol->is_string()) return Corruption("config: missing chunker_polynomial");
  auto hex = pol->get<std::string>();
  if (hex.empty() || hex.size() > 16) return Corruption("config: bad chunker_polynomial \"" + hex + "\"");
  uint64_t p = 0;
  for (char ch : hex) {
    int d;
    if (ch >= '0' && ch <= '9') {
      d = ch - '0';
    } else if (ch >= 'a' && ch <= 'f') {
      d = ch - 'a' + 10;
    } else if (ch >= 'A' && ch <= 'F') {
      d = ch - 'A' + 10;
    } else {
      return Corruption("config: bad chunker_polynomial \"" + hex + "\"");
    }
    p = p << 4 | static_cast<uint64_t>(d);
  }
  if (PolDegree(p) > 53 || !PolIrreducible(p)) {
    return Corruption("config: chunker polynomial " + hex + " is not irreducible of degree <= 53");
  }
  c.chunker_polynomial = p;
  return c;
}

RepoConfig RepoConfig::New() {
  RepoConfig c;
  uint8_t raw[32];
  RandomBytes(raw, sizeof raw);
  c.id = Id::FromBytes(raw).Hex();
  c.chunker_polynomial = RandomPolynomial();
  return c;
}

std::string EncodeConfigFile(const Key& master, const RepoConfig& config) { return Seal(master, config.ToJson()); }

Result<RepoConfig> DecodeConfigFile(const Key& master, std::string_view file) {
  std::string json;
  Status st = OpenInto(master, file, &json);
  if (!st.ok()) return Corruption("config: " + st.message());
  return RepoConfig::Parse(json);
}

}  // namespace clawback::store
