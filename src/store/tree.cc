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
