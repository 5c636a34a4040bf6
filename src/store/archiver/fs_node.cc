#include "store/archiver/fs_node.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace clawback::store {
namespace {

Timestamp TimeOf(const struct timespec& ts) {
  return Timestamp::FromUnixLocal(ts.tv_sec, static_cast<uint32_t>(ts.tv_nsec));
}

// Lists and reads the extended attributes of `path` (not following symlinks).
Status ReadXattrs(const std::string& path, std::vector<ExtendedAttribute>* out) {
  std::vector<char> names(1024);
  ssize_t n;
  for (;;) {
    n = llistxattr(path.c_str(), names.data(), names.size());
    if (n >= 0) break;
    if (errno == ERANGE) {
      names.resize(names.size() * 4);
      continue;
    }
    if (errno == ENOTSUP || errno == ENODATA) return Status::Ok();
    return ErrnoStatus("listxattr " + path, errno);
  }
  std::vector<char> value(256);
  for (ssize_t i = 0; i < n;) {
    std::string name(&names[static_cast<size_t>(i)]);
    i += static_cast<ssize_t>(name.size()) + 1;
    if (name.empty()) continue;
    ssize_t vn;
    for (;;) {
      vn = lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
      if (vn >= 0) break;
      if (errno == ERANGE) {
        value.resize(value.size() * 4);
        continue;
      }
      break;
    }
    if (vn < 0) {
      if (errno == ENODATA) continue;  // removed meanwhile
      return ErrnoStatus("getxattr " + path + " " + name, errno);
    }
    out->push_back({name, std::string(value.data(), static_cast<size_t>(vn))});
  }
  return Status::Ok();
}

}  // namespace

std::string OwnerNames::User(uint32_t uid) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = users_.find(uid);
  if (it != users_.end()) return it->second;
  std::string name;
  struct passwd pw;
  struct passwd* res = nullptr;
  std::vector<char> buf(4096);
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &res) == 0 && res != nullptr) {
    name = res->pw_name;
  }
  users_[uid] = name;
  return name;
}

std::string OwnerNames::Group(uint32_t gid) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = groups_.find(gid);
  if (it != groups_.end()) return it->second;
  std::string name;
  struct group gr;
  struct group* res = nullptr;
  std::vector<char> buf(4096);
  if (getgrgid_r(gid, &gr, buf.data(), buf.size(), &res) == 0 && res != nullptr) {
    name = res->gr_name;
  }
  groups_[gid] = name;
  return name;
}

Result<Node> NodeFromStat(const std::string& path, std::string_view name, const struct stat& st,
                          OwnerNames* names) {
  Node n;
  n.name = std::string(name);
  n.mode = GoModeFromPosix(st.st_mode);
  n.mtime = TimeOf(st.st_mtim);
  n.atime = TimeOf(st.st_atim);
  n.ctime = TimeOf(st.st_ctim);
  n.uid = st.st_uid;
  n.gid = st.st_gid;
  if (names != nullptr) {
    n.user = names->User(st.st_uid);
    n.group = names->Group(st.st_gid);
  }
  n.inode = st.st_ino;
  n.device_id = st.st_dev;
  switch (st.st_mode & S_IFMT) {
    case S_IFREG:
      n.type = NodeType::kFile;
      n.size = static_cast<uint64_t>(st.st_size);
      n.links = st.st_nlink;
      break;
    case S_IFDIR:
      n.type = NodeType::kDir;
      break;
    case S_IFLNK: {
      n.type = NodeType::kSymlink;
      n.links = st.st_nlink;
      std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 256), '\0');
      for (;;) {
        ssize_t len = readlink(path.c_str(), target.data(), target.size());
        if (len < 0) return ErrnoStatus("readlink " + path, errno);
        if (static_cast<size_t>(len) < target.size()) {
          target.resize(static_cast<size_t>(len));
          break;
        }
        target.resize(target.size() * 2);
      }
      n.linktarget = std::move(target);
      break;
    }
    case S_IFCHR:
      n.type = NodeType::kCharDev;
      n.links = st.st_nlink;
      n.device = st.st_rdev;
      break;
    case S_IFBLK:
      n.type = NodeType::kDev;
      n.links = st.st_nlink;
      n.device = st.st_rdev;
      break;
    case S_IFIFO:
      n.type = NodeType::kFifo;
      break;
    case S_IFSOCK:
      n.type = NodeType::kSocket;
      break;
    default:
      return InvalidArgument("unsupported file type at " + path);
  }
  if (n.type != NodeType::kSymlink) RETURN_IF_ERROR(ReadXattrs(path, &n.xattrs));
  return n;
}

bool NodeUnchanged(const Node& stored, const Node& current) {
  return stored.type == NodeType::kFile && current.type == NodeType::kFile &&
         stored.size == current.size && stored.inode == current.inode &&
         stored.mtime.unix_seconds == current.mtime.unix_seconds &&
         stored.mtime.nanos == current.mtime.nanos &&
         stored.ctime.unix_seconds == current.ctime.unix_seconds &&
         stored.ctime.nanos == current.ctime.nanos;
}

Status ApplyNodeMetadata(const std::string& path, const Node& node,
                         const RestoreMetadataOptions& options) {
  FileSystem* fs = options.fs != nullptr ? options.fs : FileSystem::Default();
  const bool is_link = node.type == NodeType::kSymlink;
  const char* p = path.c_str();
  if (options.chown) {
    int r = fs->ChownAt(FileSystem::kCwd, p, node.uid, node.gid, AT_SYMLINK_NOFOLLOW);
    if (r < 0 && r != -EPERM) return FsStatus("lchown " + path, r);
  }
  if (!is_link) {
    RETURN_IF_ERROR(FsStatus("chmod " + path, fs->ChmodAt(FileSystem::kCwd, p, PosixModeFromGo(node.mode))));
  }
  if (options.xattrs && !is_link) {
    for (const auto& x : node.xattrs) {
      int r = fs->Lsetxattr(p, x.name.c_str(), x.value.data(), x.value.size());
      if (r < 0 && r != -ENOTSUP && r != -EPERM) return FsStatus("setxattr " + path + " " + x.name, r);
    }
  }
  struct timespec times[2];
  times[0].tv_sec = static_cast<time_t>(node.atime.unix_seconds);
  times[0].tv_nsec = node.atime.nanos;
  times[1].tv_sec = static_cast<time_t>(node.mtime.unix_seconds);
  times[1].tv_nsec = node.mtime.nanos;
  return FsStatus("utimensat " + path, fs->UtimensAt(FileSystem::kCwd, p, times, AT_SYMLINK_NOFOLLOW));
}

Status ApplyNodeMetadataFd(int fd, const std::string& path, const Node& node,
                           const RestoreMetadataOptions& options) {
  FileSystem* fs = options.fs != nullptr ? options.fs : FileSystem::Default();
  if (options.chown) {
    int r = fs->Fchown(fd, node.uid, node.gid);
    if (r < 0 && r != -EPERM) return FsStatus("lchown " + path, r);
  }
  RETURN_IF_ERROR(FsStatus("chmod " + path, fs->Fchmod(fd, PosixModeFromGo(node.mode))));
  if (options.xattrs) {
    for (const auto& x : node.xattrs) {
      int r = fs->Fsetxattr(fd, x.name.c_str(), x.value.data(), x.value.size());
      if (r < 0 && r != -ENOTSUP && r != -EPERM) return FsStatus("setxattr " + path + " " + x.name, r);
    }
  }
  struct timespec times[2];
  times[0].tv_sec = static_cast<time_t>(node.atime.unix_seconds);
  times[0].tv_nsec = node.atime.nanos;
  times[1].tv_sec = static_cast<time_t>(node.mtime.unix_seconds);
  times[1].tv_nsec = node.mtime.nanos;
  return FsStatus("utimensat " + path, fs->Futimens(fd, times));
}

}  // namespace clawback::store
