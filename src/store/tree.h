// Trees and nodes (restic format spec §10): a tree blob is {"nodes":[...]}\n, nodes sorted by
// raw name bytes, each node's JSON byte-identical to what restic 0.14 writes, so identical
// directories get identical tree ids whether we or restic stored them.
//
// Names and link targets here are raw bytes; the Go quoting of names and the lossy UTF-8
// of JSON are applied only in ToJson/Parse.
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/encoding/go_json.h"
#include "store/id.h"

namespace clawback::store {

enum class NodeType { kFile, kDir, kSymlink, kDev, kCharDev, kFifo, kSocket, kIrregular, kUnknown };

// "file", "dir", "symlink", "dev", "chardev", "fifo", "socket", "irregular".
std::string_view NodeTypeName(NodeType t);

// Go os.FileMode bits restic stores in `mode` (spec §10.3).
inline constexpr uint32_t kModeDir = 1u << 31;
inline constexpr uint32_t kModeSymlink = 1u << 27;
inline constexpr uint32_t kModeDevice = 1u << 26;
inline constexpr uint32_t kModeNamedPipe = 1u << 25;
inline constexpr uint32_t kModeSocket = 1u << 24;
inline constexpr uint32_t kModeSetuid = 1u << 23;
inline constexpr uint32_t kModeSetgid = 1u << 22;
inline constexpr uint32_t kModeCharDevice = 1u << 21;
inline constexpr uint32_t kModeSticky = 1u << 20;
inline constexpr uint32_t kModeIrregular = 1u << 19;
inline constexpr uint32_t kModePerm = 0777;

// POSIX st_mode -> Go FileMode bits, and back (permission bits plus setuid/setgid/sticky).
uint32_t GoModeFromPosix(uint32_t st_mode);
uint32_t PosixModeFromGo(uint32_t go_mode);
// glibc makedev encoding restic uses for `device` and `device_id`.
uint64_t GoDeviceNumber(uint32_t major, uint32_t minor);

struct ExtendedAttribute {
  std::string name;
  std::string value;  // raw bytes (base64 in JSON)
  friend bool operator==(const ExtendedAttribute&, const ExtendedAttribute&) = default;
};

struct Node {
  std::string name;  // raw bytes
  NodeType type = NodeType::kFile;
  std::string type_name;  // only for kUnknown: the type string as stored
  uint32_t mode = 0;      // Go FileMode
  Timestamp mtime, atime, ctime;
  uint32_t uid = 0, gid = 0;
  std::string user, group;
  uint64_t inode = 0;
  uint64_t device_id = 0;
  uint64_t size = 0;  // files: sum of the content blobs' plaintext lengths
  uint64_t links = 0;
  std::string linktarget;  // raw bytes
  std::vector<ExtendedAttribute> xattrs;
  std::string generic_attributes;  // compact JSON object, or empty
  uint64_t device = 0;
  std::vector<Id> content;     // files: data blob ids in order (written as [] when empty)
  std::optional<Id> subtree;   // dirs
  std::string error;

  friend bool operator==(const Node&, const Node&) = default;
};

// Appends the node's JSON exactly as restic 0.14 writes it.
void AppendNodeJson(const Node& node, std::string* out);

struct Tree {
  std::vector<Node> nodes;

  // Sorts nodes by raw name bytes; InvalidArgument on a duplicate name.
  Status Sort();
  // {"nodes":[...]}\n. REQUIRES: sorted (Sort()).
  std::string ToJson() const;
  // The tree blob's id.
  Id ComputeId() const { return Id::Hash(ToJson()); }
  // Accepts "nodes": null and unknown keys; Corruption for anything else malformed
  // (including a name that does not unquote).
  static Result<Tree> Parse(std::string_view json);
  // The same through a full JSON document, for any input; Parse() tries a faster parser of
  // the compact shape restic and clawback write first and falls back to this one.
  static Result<Tree> ParseGeneral(std::string_view json);
  // Binary search by raw name. REQUIRES: sorted.
  const Node* Find(std::string_view name) const;
};

}  // namespace clawback::store
