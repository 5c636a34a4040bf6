#include "store/index/index_file.h"

#include <nlohmann/json.hpp>

namespace clawback::store {
namespace {

Result<Id> ParseIdField(const nlohmann::json& j, const char* what) {
  if (!j.is_string()) return Corruption(std::string("index: ") + what + " is not a string");
  auto id = Id::Parse(j.get_ref<const std::string&>());
  if (!id.ok()) return Corruption(std::string("index: ") + what + ": " + id.status().message());
  return *id;
}

Result<uint32_t> ParseU32(const nlohmann::json& o, const char* name, bool required) {
  auto it = o.find(name);
  if (it == o.end() || it->is_null()) {
    if (required) return Corruption(std::string("index: blob without \"") + name + "\"");
    return uint32_t{0};
  }
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
    return Corruption(std::string("index: \"") + name + "\" is not a non-negative integer");
  }
  uint64_t v = it->get<uint64_t>();
  if (v > UINT32_MAX) return Corruption(std::string("index: \"") + name + "\" out of range");
  return static_cast<uint32_t>(v);
}

Result<IndexPack> ParsePackEntry(const nlohmann::json& p) {
  if (!p.is_object()) return Corruption("index: pack entry is not an object");
  IndexPack pack;
  auto id = p.find("id");
  if (id == p.end()) return Corruption("index: pack without id");
  ASSIGN_OR_RETURN(pack.id, ParseIdField(*id, "pack id"));
  auto blobs = p.find("blobs");
  if (blobs == p.end() || blobs->is_null()) return pack;
  if (!blobs->is_array()) return Corruption("index: \"blobs\" is not an array");
  pack.blobs.reserve(blobs->size());
  for (const auto& b : *blobs) {
    if (!b.is_object()) return Corruption("index: blob entry is not an object");
    PackedBlob blob;
    auto bid = b.find("id");
    if (bid == b.end()) return Corruption("index: blob without id");
    ASSIGN_OR_RETURN(blob.id, ParseIdField(*bid, "blob id"));
    auto type = b.find("type");
    if (type == b.end() || !type->is_string()) return Corruption("index: blob without type");
    const auto& t = type->get_ref<const std::string&>();
    if (t == "data") {
      blob.type = BlobType::kData;
    } else if (t == "tree") {
      blob.type = BlobType::kTree;
    } else {
      return Corruption("index: unknown blob type \"" + t + "\"");
    }
    ASSIGN_OR_RETURN(blob.offset, ParseU32(b, "offset", true));
    ASSIGN_OR_RETURN(blob.length, ParseU32(b, "length", true));
    ASSIGN_OR_RETURN(blob.uncompressed_length, ParseU32(b, "uncompressed_length", false));
    if (blob.length < 32) return Corruption("index: blob length below the crypto overhead");
    pack.blobs.push_back(blob);
  }
  return pack;
}

void AppendU32(std::string* out, uint32_t v) { *out += std::to_string(v); }

}  // namespace

size_t IndexFile::blob_count() const {
  size_t n = 0;
  for (const auto& p : packs) n += p.blobs.size();
  return n;
}

std::string IndexFile::ToJson() const {
  std::string out;
  out.reserve(64 + blob_count() * 150);
  out += "{";
  if (!supersedes.empty()) {
    out += "\"supersedes\":[";
    for (size_t i = 0; i < supersedes.size(); ++i) {
      if (i) out += ",";
      out += "\"" + supersedes[i].Hex() + "\"";
    }
    out += "],";
  }
  out += "\"packs\":[";
  for (size_t i = 0; i < packs.size(); ++i) {
    if (i) out += ",";
    out += "{\"id\":\"" + packs[i].id.Hex() + "\",\"blobs\":[";
    for (size_t k = 0; k < packs[i].blobs.size(); ++k) {
      const PackedBlob& b = packs[i].blobs[k];
      if (k) out += ",";
      out += "{\"id\":\"" + b.id.Hex() + "\",\"type\":\"";
      out += BlobTypeName(b.type);
      out += "\",\"offset\":";
      AppendU32(&out, b.offset);
      out += ",\"length\":";
      AppendU32(&out, b.length);
      if (b.compressed()) {
        out += ",\"uncompressed_length\":";
        AppendU32(&out, b.uncompressed_length);
      }
      out += "}";
    }
    out += "]}";
  }
  out += "]}\n";
  return out;
}

Result<IndexFile> IndexFile::Parse(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corruption("index: invalid JSON");
  IndexFile idx;
  try {
    const nlohmann::json* packs = nullptr;
    if (j.is_array()) {
      idx.old_format = true;
      packs = &j;
    } else if (j.is_object()) {
      auto sup = j.find("supersedes");
      if (sup != j.end() && !sup->is_null()) {
        if (!sup->is_array()) return Corruption("index: \"supersedes\" is not an array");
        for (const auto& s : *sup) {
          ASSIGN_OR_RETURN(auto id, ParseIdField(s, "superseded index id"));
          idx.supersedes.push_back(id);
        }
      }
      auto p = j.find("packs");
      if (p != j.end() && !p->is_null()) {
        if (!p->is_array()) return Corruption("index: \"packs\" is not an array");
        packs = &*p;
      }
    } else {
      return Corruption("index: neither an object nor an array");
    }
    if (packs != nullptr) {
      idx.packs.reserve(packs->size());
      for (const auto& p : *packs) {
        ASSIGN_OR_RETURN(auto pack, ParsePackEntry(p));
        idx.packs.push_back(std::move(pack));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return Corruption(std::string("index: ") + e.what());
  }
  return idx;
}

}  // namespace clawback::store
