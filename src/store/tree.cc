#include "store/tree.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

namespace clawback::store {
namespace {

constexpr std::string_view kTypeNames[] = {"file", "dir", "symlink", "dev", "chardev", "fifo", "socket", "irregular"};

void AppendU64(std::string* out, uint64_t v) {
  char buf[24];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out->append(p, static_cast<size_t>(buf + sizeof buf - p));
}

void AppendKey(std::string* out, std::string_view key) {
  out->push_back(',');
  out->push_back('"');
  out->append(key);
  out->append("\":");
}

using Json = nlohmann::json;

Status Bad(const std::string& what) { return Corruption("tree: " + what); }

Result<uint64_t> GetU64(const Json& v, const char* name) {
  if (v.is_null()) return uint64_t{0};
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  return Bad(std::string("\"") + name + "\" is not a non-negative integer");
}

Result<std::string> GetString(const Json& v, const char* name) {
  if (v.is_null()) return std::string();
  if (!v.is_string()) return Bad(std::string("\"") + name + "\" is not a string");
  return v.get<std::string>();
}

Result<Timestamp> GetTime(const Json& v, const char* name) {
  if (v.is_null()) return Timestamp();
  if (!v.is_string()) return Bad(std::string("\"") + name + "\" is not a time string");
  auto t = Timestamp::Parse(v.get_ref<const std::string&>());
  if (!t.ok()) return Bad(t.status().message());
  return *t;
}

Result<Id> GetId(const Json& v, const char* name) {
  if (!v.is_string()) return Bad(std::string("\"") + name + "\" is not an id");
  auto id = Id::Parse(v.get_ref<const std::string&>());
  if (!id.ok()) return Bad(std::string(name) + ": " + id.status().message());
  return *id;
}

Result<Node> ParseNode(const Json& j) {
  if (!j.is_object()) return Bad("node is not an object");
  Node n;
  bool have_raw_target = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    if (k == "name") {
      ASSIGN_OR_RETURN(auto quoted, GetString(v, "name"));
      auto raw = GoUnquoteInner(quoted);
      if (!raw.ok()) return Bad(raw.status().message());
      n.name = std::move(*raw);
    } else if (k == "type") {
      ASSIGN_OR_RETURN(auto t, GetString(v, "type"));
      n.type = NodeType::kUnknown;
      for (size_t i = 0; i < std::size(kTypeNames); ++i) {
        if (t == kTypeNames[i]) n.type = static_cast<NodeType>(i);
      }
      if (n.type == NodeType::kUnknown) n.type_name = t;
    } else if (k == "mode") {
      ASSIGN_OR_RETURN(auto m, GetU64(v, "mode"));
      if (m > UINT32_MAX) return Bad("mode out of range");
      n.mode = static_cast<uint32_t>(m);
    } else if (k == "mtime") {
      ASSIGN_OR_RETURN(n.mtime, GetTime(v, "mtime"));
    } else if (k == "atime") {
      ASSIGN_OR_RETURN(n.atime, GetTime(v, "atime"));
    } else if (k == "ctime") {
      ASSIGN_OR_RETURN(n.ctime, GetTime(v, "ctime"));
    } else if (k == "uid" || k == "gid") {
      ASSIGN_OR_RETURN(auto id, GetU64(v, k.c_str()));
      if (id > UINT32_MAX) return Bad(k + " out of range");
      (k == "uid" ? n.uid : n.gid) = static_cast<uint32_t>(id);
    } else if (k == "user") {
      ASSIGN_OR_RETURN(n.user, GetString(v, "user"));
    } else if (k == "group") {
      ASSIGN_OR_RETURN(n.group, GetString(v, "group"));
    } else if (k == "inode") {
      ASSIGN_OR_RETURN(n.inode, GetU64(v, "inode"));
    } else if (k == "device_id") {
      ASSIGN_OR_RETURN(n.device_id, GetU64(v, "device_id"));
    } else if (k == "size") {
      ASSIGN_OR_RETURN(n.size, GetU64(v, "size"));
    } else if (k == "links") {
      ASSIGN_OR_RETURN(n.links, GetU64(v, "links"));
    } else if (k == "linktarget") {
      if (!have_raw_target) {
        ASSIGN_OR_RETURN(n.linktarget, GetString(v, "linktarget"));
      }
    } else if (k == "linktarget_raw") {
      if (v.is_null()) continue;
      ASSIGN_OR_RETURN(auto b64, GetString(v, "linktarget_raw"));
      auto raw = Base64Decode(b64);
      if (!raw.ok()) return Bad("linktarget_raw: " + raw.status().message());
      n.linktarget = std::move(*raw);
      have_raw_target = true;
    } else if (k == "extended_attributes") {
      if (v.is_null()) continue;
      if (!v.is_array()) return Bad("extended_attributes is not an array");
      for (const Json& x : v) {
        if (!x.is_object()) return Bad("extended attribute is not an object");
        ExtendedAttribute xa;
        if (auto f = x.find("name"); f != x.end()) {
          ASSIGN_OR_RETURN(xa.name, GetString(*f, "name"));
        }
        if (auto f = x.find("value"); f != x.end() && !f->is_null()) {
          ASSIGN_OR_RETURN(auto b64, GetString(*f, "value"));
          auto raw = Base64Decode(b64);
          if (!raw.ok()) return Bad("xattr value: " + raw.status().message());
          xa.value = std::move(*raw);
        }
        n.xattrs.push_back(std::move(xa));
      }
    } else if (k == "generic_attributes") {
      if (v.is_null()) continue;
      if (!v.is_object()) return Bad("generic_attributes is not an object");
      if (!v.empty()) n.generic_attributes = v.dump();
    } else if (k == "device") {
      ASSIGN_OR_RETURN(n.device, GetU64(v, "device"));
    } else if (k == "content") {
      if (v.is_null()) continue;
      if (!v.is_array()) return Bad("content is not an array");
      n.content.reserve(v.size());
      for (const Json& c : v) {
        ASSIGN_OR_RETURN(auto id, GetId(c, "content"));
        n.content.push_back(id);
      }
    } else if (k == "subtree") {
      if (v.is_null()) continue;
      ASSIGN_OR_RETURN(auto id, GetId(v, "subtree"));
      n.subtree = id;
    } else if (k == "error") {
      ASSIGN_OR_RETURN(n.error, GetString(v, "error"));
    }
    // Unknown keys are ignored, as restic does.
  }
  return n;
}

// A parser for trees in the shape restic 0.14 and we write them — compact JSON, the
// known keys, strings of printable ASCII without escapes — that fills the same Node values
// as ParseNode without building a JSON document (decoding parent trees was the largest
// part of a re-snapshot after the key derivation). It gives up (nullopt) on anything else
// (escapes, non-ASCII names, unknown or repeated keys, linktarget_raw, generic attributes,
// white space, malformed input), and Tree::Parse then takes the general path, which also
// words any error.
class FastTreeParser {
 public:
  explicit FastTreeParser(std::string_view json) : s_(json) {}

  std::optional<Tree> Parse() {
    Tree tree;
    if (!Lit("{\"nodes\":")) return std::nullopt;
    if (Lit("null")) {
      // nothing
    } else {
      if (!Lit("[")) return std::nullopt;
      if (!Lit("]")) {
        for (;;) {
          Node n;
          if (!ParseNode(&n)) return std::nullopt;
          tree.nodes.push_back(std::move(n));
          if (Lit(",")) continue;
          if (Lit("]")) break;
          return std::nullopt;
        }
      }
    }
    if (!Lit("}")) return std::nullopt;
    Lit("\n");
    if (p_ != s_.size()) return std::nullopt;
    return tree;
  }

 private:
  bool Lit(std::string_view lit) {
    if (s_.substr(p_, lit.size()) != lit) return false;
    p_ += lit.size();
    return true;
  }
  // A string of printable ASCII without escapes; the view points into the input.
  bool Str(std::string_view* out) {
    if (p_ >= s_.size() || s_[p_] != '"') return false;
    size_t start = ++p_;
    while (p_ < s_.size()) {
      auto c = static_cast<uint8_t>(s_[p_]);
      if (c == '"') {
        *out = s_.substr(start, p_ - start);
        ++p_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
      ++p_;
    }
    return false;
  }
  bool StrOrNull(std::string_view* out) {
    *out = std::string_view();
    return Lit("null") || Str(out);
  }
  // A non-negative integer as JSON writes it (no sign, fraction, exponent or leading zero),
  // below 10^19; null reads as 0.
  bool U64(uint64_t* out) {
    *out = 0;
    if (Lit("null")) return true;
    size_t start = p_;
    while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') *out = *out * 10 + static_cast<uint64_t>(s_[p_++] - '0');
    size_t digits = p_ - start;
    if (digits == 0 || digits > 19 || (digits > 1 && s_[start] == '0')) return false;
    return p_ < s_.size() && (s_[p_] == ',' || s_[p_] == '}');
  }
  bool U32(uint32_t* out) {
    uint64_t v = 0;
    if (!U64(&v) || v > UINT32_MAX) return false;
    *out = static_cast<uint32_t>(v);
    return true;
  }
  bool Time(Timestamp* out) {
    *out = Timestamp();
    if (Lit("null")) return true;
    std::string_view text;
    if (!Str(&text)) return false;
    auto t = Timestamp::Parse(text);
    if (!t.ok()) return false;
    *out = *t;
    return true;
  }
  bool IdValue(Id* out) {
    std::string_view hex;
    if (!Str(&hex)) return false;
    auto id = Id::Parse(hex);
    if (!id.ok()) return false;
    *out = *id;
    return true;
  }

  bool ParseNode(Node* n) {
    if (!Lit("{")) return false;
    uint32_t seen = 0;
    bool first = true;
    for (;;) {
      if (Lit("}")) return !first;
      if (!first && !Lit(",")) return false;
      first = false;
      std::string_view key;
      if (!Str(&key) || !Lit(":")) return false;
      int k = KeyIndex(key);
      if (k < 0 || (seen & (1u << k)) != 0) return false;
      seen |= 1u << k;
      std::string_view v;
      bool ok = true;
      switch (k) {
        case 0:  // name: without backslashes Go's unquoting changes nothing
          ok = Str(&v);
          n->name.assign(v);
          break;
        case 1:
          ok = Str(&v);
          n->type = NodeType::kUnknown;
          for (size_t i = 0; i < std::size(kTypeNames); ++i) {
            if (v == kTypeNames[i]) n->type = static_cast<NodeType>(i);
          }
          if (n->type == NodeType::kUnknown) n->type_name.assign(v);
          break;
        case 2: ok = U32(&n->mode); break;
        case 3: ok = Time(&n->mtime); break;
        case 4: ok = Time(&n->atime); break;
        case 5: ok = Time(&n->ctime); break;
        case 6: ok = U32(&n->uid); break;
        case 7: ok = U32(&n->gid); break;
        case 8: ok = StrOrNull(&v); n->user.assign(v); break;
        case 9: ok = StrOrNull(&v); n->group.assign(v); break;
        case 10: ok = U64(&n->inode); break;
        case 11: ok = U64(&n->device_id); break;
        case 12: ok = U64(&n->size); break;
        case 13: ok = U64(&n->links); break;
        case 14: ok = StrOrNull(&v); n->linktarget.assign(v); break;
        case 15: ok = Xattrs(n); break;
        case 16: ok = U64(&n->device); break;
        case 17: ok = Content(n); break;
        case 18:
          if (!Lit("null")) {
            Id id;
            ok = IdValue(&id);
            n->subtree = id;
          }
          break;
        case 19: ok = StrOrNull(&v); n->error.assign(v); break;
        default: return false;
      }
      if (!ok) return false;
    }
  }

  static int KeyIndex(std::string_view key) {
    static constexpr std::string_view kKeys[] = {
        "name", "type", "mode", "mtime", "atime", "ctime", "uid", "gid", "user", "group", "inode",
        "device_id", "size", "links", "linktarget", "extended_attributes", "device", "content", "subtree", "error"};
    for (size_t i = 0; i < std::size(kKeys); ++i) {
      if (key == kKeys[i]) return static_cast<int>(i);
    }
    return -1;
  }

  bool Xattrs(Node* n) {
    if (Lit("null")) return true;
    if (!Lit("[")) return false;
    if (Lit("]")) return true;
    for (;;) {
      ExtendedAttribute xa;
      std::string_view name, b64;
      if (!Lit("{\"name\":") || !Str(&name) || !Lit(",\"value\":") || !Str(&b64) || !Lit("}")) return false;
      auto raw = Base64Decode(b64);
      if (!raw.ok()) return false;
      xa.name.assign(name);
      xa.value = std::move(*raw);
      n->xattrs.push_back(std::move(xa));
      if (Lit(",")) continue;
      return Lit("]");
    }
  }

  bool Content(Node* n) {
    if (Lit("null")) return true;
    if (!Lit("[")) return false;
    if (Lit("]")) return true;
    for (;;) {
      Id id;
      if (!IdValue(&id)) return false;
      n->content.push_back(id);
      if (Lit(",")) continue;
      return Lit("]");
    }
  }

  std::string_view s_;
  size_t p_ = 0;
};

}  // namespace

std::string_view NodeTypeName(NodeType t) {
  auto i = static_cast<size_t>(t);
  return i < std::size(kTypeNames) ? kTypeNames[i] : std::string_view("unknown");
}

uint32_t GoModeFromPosix(uint32_t st_mode) {
  uint32_t m = st_mode & kModePerm;
  switch (st_mode & S_IFMT) {
    case S_IFDIR:
      m |= kModeDir;
      break;
    case S_IFLNK:
      m |= kModeSymlink;
      break;
    case S_IFBLK:
      m |= kModeDevice;
      break;
    case S_IFCHR:
      m |= kModeDevice | kModeCharDevice;
      break;
    case S_IFIFO:
      m |= kModeNamedPipe;
      break;
    case S_IFSOCK:
      m |= kModeSocket;
      break;
    default:
      break;
  }
  if (st_mode & S_ISUID) m |= kModeSetuid;
  if (st_mode & S_ISGID) m |= kModeSetgid;
  if (st_mode & S_ISVTX) m |= kModeSticky;
  return m;
}

uint32_t PosixModeFromGo(uint32_t go_mode) {
  uint32_t m = go_mode & kModePerm;
  if (go_mode & kModeSetuid) m |= S_ISUID;
  if (go_mode & kModeSetgid) m |= S_ISGID;
  if (go_mode & kModeSticky) m |= S_ISVTX;
  return m;
}

uint64_t GoDeviceNumber(uint32_t major, uint32_t minor) {
  uint64_t maj = major, min = minor;
  return ((maj & 0xfffff000) << 32) | ((maj & 0xfff) << 8) | ((min & 0xffffff00) << 12) | (min & 0xff);
}

void AppendNodeJson(const Node& n, std::string* out) {
  out->append("{\"name\":");
  AppendGoJsonString(out, GoQuoteInner(n.name));
  out->append(",\"type\":");
  AppendGoJsonString(out, n.type == NodeType::kUnknown ? std::string_view(n.type_name) : NodeTypeName(n.type));
  if (n.mode != 0) {
    AppendKey(out, "mode");
    AppendU64(out, n.mode);
  }
  AppendKey(out, "mtime");
  AppendGoJsonString(out, n.mtime.ToRfc3339());
  AppendKey(out, "atime");
  AppendGoJsonString(out, n.atime.ToRfc3339());
  AppendKey(out, "ctime");
  AppendGoJsonString(out, n.ctime.ToRfc3339());
  AppendKey(out, "uid");
  AppendU64(out, n.uid);
  AppendKey(out, "gid");
  AppendU64(out, n.gid);
  if (!n.user.empty()) {
    AppendKey(out, "user");
    AppendGoJsonString(out, n.user);
  }
  if (!n.group.empty()) {
    AppendKey(out, "group");
    AppendGoJsonString(out, n.group);
  }
  if (n.inode != 0) {
    AppendKey(out, "inode");
    AppendU64(out, n.inode);
  }
  if (n.device_id != 0) {
    AppendKey(out, "device_id");
    AppendU64(out, n.device_id);
  }
  if (n.size != 0) {
    AppendKey(out, "size");
    AppendU64(out, n.size);
  }
  if (n.links != 0) {
    AppendKey(out, "links");
    AppendU64(out, n.links);
  }
  if (!n.linktarget.empty()) {
    AppendKey(out, "linktarget");
    AppendGoJsonString(out, n.linktarget);
    if (!IsValidUtf8(n.linktarget)) {
      // Newer restic keeps the exact bytes here; 0.14 ignores the field.
      AppendKey(out, "linktarget_raw");
      AppendGoJsonString(out, Base64Encode(n.linktarget));
    }
  }
  if (!n.xattrs.empty()) {
    AppendKey(out, "extended_attributes");
    out->push_back('[');
    for (size_t i = 0; i < n.xattrs.size(); ++i) {
      if (i) out->push_back(',');
      out->append("{\"name\":");
      AppendGoJsonString(out, n.xattrs[i].name);
      out->append(",\"value\":");
      AppendGoJsonString(out, Base64Encode(n.xattrs[i].value));
      out->push_back('}');
    }
    out->push_back(']');
  }
  if (!n.generic_attributes.empty()) {
    AppendKey(out, "generic_attributes");
    out->append(n.generic_attributes);
  }
  if (n.device != 0) {
    AppendKey(out, "device");
    AppendU64(out, n.device);
  }
  AppendKey(out, "content");
  if (n.type == NodeType::kFile || !n.content.empty()) {
    out->push_back('[');
    for (size_t i = 0; i < n.content.size(); ++i) {
      if (i) out->push_back(',');
      out->push_back('"');
      out->append(n.content[i].Hex());
      out->push_back('"');
    }
    out->push_back(']');
  } else {
    out->append("null");
  }
  if (n.subtree) {
    AppendKey(out, "subtree");
    out->push_back('"');
    out->append(n.subtree->Hex());
    out->push_back('"');
  }
  if (!n.error.empty()) {
    AppendKey(out, "error");
    AppendGoJsonString(out, n.error);
  }
  out->push_back('}');
}

Status Tree::Sort() {
  std::sort(nodes.begin(), nodes.end(), [](const Node& a, const Node& b) { return a.name < b.name; });
  for (size_t i = 1; i < nodes.size(); ++i) {
    if (nodes[i].name == nodes[i - 1].name) {
      return InvalidArgument("tree: duplicate name \"" + GoQuoteInner(nodes[i].name) + "\"");
    }
  }
  return Status::Ok();
}

std::string Tree::ToJson() const {
  std::string out;
  out.reserve(32 + nodes.size() * 320);
  out.append("{\"nodes\":[");
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (i) out.push_back(',');
    AppendNodeJson(nodes[i], &out);
  }
  out.append("]}\n");
  return out;
}

Result<Tree> Tree::Parse(std::string_view json) {
  if (auto fast = FastTreeParser(json).Parse()) return std::move(*fast);
  return ParseGeneral(json);
}

Result<Tree> Tree::ParseGeneral(std::string_view json) {
  auto j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Bad("invalid JSON");
  Tree tree;
  try {
    auto it = j.find("nodes");
    if (it == j.end()) return Bad("no \"nodes\" key");
    if (it->is_null()) return tree;
    if (!it->is_array()) return Bad("\"nodes\" is not an array");
    tree.nodes.reserve(it->size());
    for (const Json& n : *it) {
      ASSIGN_OR_RETURN(auto node, ParseNode(n));
      tree.nodes.push_back(std::move(node));
    }
  } catch (const Json::exception& e) {
    return Bad(e.what());
  }
  return tree;
}

const Node* Tree::Find(std::string_view name) const {
  auto it = std::lower_bound(nodes.begin(), nodes.end(), name,
                             [](const Node& n, std::string_view v) { return std::string_view(n.name) < v; });
  if (it == nodes.end() || it->name != name) return nullptr;
  return &*it;
}

}  // namespace clawback::store
