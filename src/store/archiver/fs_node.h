// File system <-> tree node: what a snapshot records about a file, and how a restore puts
// it back, following restic 0.14 on Linux (restic format spec §10.3).
//
// NodeFromStat fills everything but `content` (files) and `subtree` (directories): type,
// Go mode bits, times in the local zone, owner ids and names, inode, device id, size,
// link count (files, symlinks, devices), link target, device number, extended attributes
// (not for symlinks, as restic 0.14).
//
// ApplyNodeMetadata restores owner (when running as root), mode (not for symlinks), extended
// attributes and atime/mtime with nanoseconds (symlinks too, without following them);
// ApplyNodeMetadataFd does the same through an open file descriptor.
//
// Thread-safety: OwnerNames is safe to share between threads; the functions are reentrant.
#pragma once

#include <sys/stat.h>

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/file_system.h"
#include "common/status.h"
#include "store/tree.h"

namespace clawback::store {

// Caches uid -> user name and gid -> group name lookups.
class OwnerNames {
 public:
  std::string User(uint32_t uid);
  std::string Group(uint32_t gid);

 private:
  std::mutex mu_;
  std::unordered_map<uint32_t, std::string> users_;
  std::unordered_map<uint32_t, std::string> groups_;
};

// `path` is the file's path for readlink/listxattr; `st` its lstat.
Result<Node> NodeFromStat(const std::string& path, std::string_view name, const struct stat& st,
                          OwnerNames* names);

// Whether a stored file node still describes the file on disk (restic's change detection:
// same type, size, mtime, ctime and inode). Unchanged files are not re-read.
bool NodeUnchanged(const Node& stored, const Node& current);

struct RestoreMetadataOptions {
  bool chown = false;  // restore uid/gid (only meaningful as root)
  bool xattrs = true;
  FileSystem* fs = nullptr;  // where the calls go; null: FileSystem::Default()
};
// Applies the node's metadata to `path` (which exists and has the node's type).
Status ApplyNodeMetadata(const std::string& path, const Node& node,
                         const RestoreMetadataOptions& options);
// The same for a regular file or directory open as `fd` (a descriptor of options.fs; no path
// lookups); `path` names it in errors only.
Status ApplyNodeMetadataFd(int fd, const std::string& path, const Node& node,
                           const RestoreMetadataOptions& options);

}  // namespace clawback::store
