#include "common/file_system.h"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace clawback {

// ---------------------------------------------------------------------------------------
// MemFileSystem

struct MemFileSystem::Inode {
  mode_t mode = 0;  // type and permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  uint64_t ino = 0;
  nlink_t nlink = 0;  // names pointing here (directories: 2 + subdirectories)
  dev_t rdev = 0;
  int iflags = 0;
  struct timespec atime {
  }, mtime{}, ctime{};
  std::string data;                                       // file contents / symlink target
  std::map<std::string, std::shared_ptr<Inode>> entries;  // directories
  std::map<std::string, std::string> xattrs;
  // The file system's byte count, which a regular file gives its bytes back to when it is
  // gone (no name and no descriptor left), as on a disk.
  uint64_t* used = nullptr;

  ~Inode() {
    if (used != nullptr) *used -= data.size();
  }
  bool IsDir() const { return S_ISDIR(mode); }
};

struct MemFileSystem::OpenFile {
  std::shared_ptr<Inode> inode;
  int flags = 0;
  int64_t offset = 0;
};

// A resolved path: the directory holding the last component, its name, and the inode
// there (null when absent).
struct MemFileSystem::Lookup {
  std::shared_ptr<Inode> parent;
  std::string name;
  std::shared_ptr<Inode> inode;
};

namespace {

struct timespec Now() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

std::vector<std::string> Components(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

constexpr int kMaxSymlinks = 40;

}  // namespace

MemFileSystem::MemFileSystem(uint64_t capacity) : capacity_(capacity) {
  root_ = std::make_shared<Inode>();
  root_->mode = S_IFDIR | 0755;
  root_->ino = 1;
  root_->nlink = 2;
  root_->atime = root_->mtime = root_->ctime = Now();
}

MemFileSystem::~MemFileSystem() = default;

uint64_t MemFileSystem::UsedBytes() const {
  std::lock_guard<std::mutex> l(mu_);
  return used_;
}

size_t MemFileSystem::OpenDescriptors() const {
  std::lock_guard<std::mutex> l(mu_);
  return fds_.size();
}

int MemFileSystem::Fd(int fd, OpenFile** out) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return -EBADF;
  *out = it->second.get();
  return 0;
}

int MemFileSystem::Resolve(int dir, const char* path, bool follow_last, Lookup* out) {
  if (path == nullptr || *path == '\0') return -ENOENT;
  std::string_view p(path);
  // The directories walked through (for ".."), starting at the root or at `dir`.
  std::vector<std::shared_ptr<Inode>> stack{root_};
  if (p[0] != '/' && dir != kCwd) {
    OpenFile* f;
    if (int r = Fd(dir, &f); r < 0) return r;
    if (!f->inode->IsDir()) return -ENOTDIR;
    stack = {f->inode};
  }
  std::vector<std::string> parts = Components(p);
  const bool trailing_slash = p.size() > 1 && p.back() == '/';
  int links = 0;
  if (parts.empty()) {  // "/"
    out->parent = stack.back();
    out->name = ".";
    out->inode = stack.back();
    return 0;
  }
  for (size_t i = 0; i < parts.size(); i++) {
    const std::string& name = parts[i];
    const bool last = i + 1 == parts.size();
    std::shared_ptr<Inode> cur = stack.back();
    if (!cur->IsDir()) return -ENOTDIR;
    if (name == ".") {
      if (last) {
        *out = {cur, name, cur};
        return 0;
      }
      continue;
    }
    if (name == "..") {
      if (stack.size() > 1) stack.pop_back();
      if (last) {
        *out = {stack.back(), name, stack.back()};
        return 0;
      }
      continue;
    }
    auto it = cur->entries.find(name);
    std::shared_ptr<Inode> next = it == cur->entries.end() ? nullptr : it->second;
    if (next != nullptr && S_ISLNK(next->mode) && (!last || follow_last || trailing_slash)) {
      if (++links > kMaxSymlinks) return -ELOOP;
      // Splice the link's target in place of this component.
      std::vector<std::string> target = Components(next->data);
      if (!next->data.empty() && next->data[0] == '/') stack = {root_};
      parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(i));
      parts.insert(parts.begin() + static_cast<std::ptrdiff_t>(i), target.begin(), target.end());
      if (parts.empty() || i >= parts.size()) {
        // The link pointed at "/" (or only at "." components): we are there.
        *out = {stack.back(), ".", stack.back()};
        return 0;
      }
      i--;
      continue;
    }
    if (last) {
      if (trailing_slash && next != nullptr && !next->IsDir()) return -ENOTDIR;
      *out = {cur, name, next};
      return 0;
    }
    if (next == nullptr) return -ENOENT;
    stack.push_back(next);
  }
  return -ENOENT;  // not reached
}

int MemFileSystem::ResolveInode(int dir, const char* path, int flags, std::shared_ptr<Inode>* out) {
  Lookup lk;
  if (int r = Resolve(dir, path, (flags & AT_SYMLINK_NOFOLLOW) == 0, &lk); r < 0) return r;
  if (lk.inode == nullptr) return -ENOENT;
  *out = lk.inode;
  return 0;
}

int MemFileSystem::OpenAt(int dir, const char* path, int flags, mode_t mode) {
  std::lock_guard<std::mutex> l(mu_);
  if ((flags & O_DIRECT) != 0) return -EINVAL;
  Lookup lk;
  const bool nofollow = (flags & O_NOFOLLOW) != 0 || ((flags & O_CREAT) && (flags & O_EXCL));
  if (int r = Resolve(dir, path, !nofollow, &lk); r < 0) return r;
  std::shared_ptr<Inode> node = lk.inode;
  const int acc = flags & O_ACCMODE;
  if (node == nullptr) {
    if ((flags & O_CREAT) == 0) return -ENOENT;
    if ((flags & O_DIRECTORY) != 0) return -EINVAL;
    if (lk.name == "." || lk.name == "..") return -EISDIR;
    node = std::make_shared<Inode>();
    node->mode = S_IFREG | (mode & 07777);
    node->ino = next_ino_++;
    node->nlink = 1;
    node->used = &used_;
    node->atime = node->mtime = node->ctime = Now();
    lk.parent->entries[lk.name] = node;
    lk.parent->mtime = lk.parent->ctime = Now();
  } else {
    if ((flags & O_CREAT) && (flags & O_EXCL)) return -EEXIST;
    if (S_ISLNK(node->mode)) return -ELOOP;  // O_NOFOLLOW on a symlink
    if ((flags & O_DIRECTORY) && !node->IsDir()) return -ENOTDIR;
    if (node->IsDir() && acc != O_RDONLY) return -EISDIR;
    if (!S_ISREG(node->mode) && !node->IsDir()) return -ENXIO;  // no fifo/device I/O here
    if ((flags & O_TRUNC) && acc != O_RDONLY && S_ISREG(node->mode)) {
      used_ -= node->data.size();
      node->data.clear();
      node->mtime = node->ctime = Now();
    }
  }
  auto f = std::make_unique<OpenFile>();
  f->inode = node;
  f->flags = flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
  const int fd = next_fd_++;
  fds_[fd] = std::move(f);
  return fd;
}

int MemFileSystem::Close(int fd) {
  std::lock_guard<std::mutex> l(mu_);
  return fds_.erase(fd) == 1 ? 0 : -EBADF;
}

int64_t MemFileSystem::Read(int fd, void* buf, size_t n) {
  std::lock_guard<std::mutex> l(mu_);
  OpenFile* f;
  if (int r = Fd(fd, &f); r < 0) return r;
  if ((f->flags & O_ACCMODE) == O_WRONLY) return -EBADF;
  if (f->inode->IsDir()) return -EISDIR;
  const std::string& d = f->inode->data;
  if (f->offset >= static_cast<int64_t>(d.size())) return 0;
  const size_t k = std::min(n, d.size() - static_cast<size_t>(f->offset));
  std::memcpy(buf, d.data() + f->offset, k);
  f->offset += static_cast<int64_t>(k);
  return static_cast<int64_t>(k);
}

int64_t MemFileSystem::PRead(int fd, void* buf, size_t n, int64_t offset) {
  std::lock_guard<std::mutex> l(mu_);
  OpenFile* f;
  if (int r = Fd(fd, &f); r < 0) return r;
  if ((f->flags & O_ACCMODE) == O_WRONLY) return -EBADF;
  if (f->inode->IsDir()) return -EISDIR;
  if (offset < 0) return -EINVAL;
  const std::string& d = f->inode->data;
  if (offset >= static_cast<int64_t>(d.size())) return 0;
  const size_t k = std::min(n, d.size() - static_cast<size_t>(offset));
  std::memcpy(buf, d.data() + offset, k);
  return static_cast<int64_t>(k);
}

int64_t MemFileSystem::WriteLocked(OpenFile* f, const void* buf, size_t n, int64_t offset) {
  if ((f->flags & O_ACCMODE) == O_RDONLY) return -EBADF;
  if (offset < 0) return -EINVAL;
  std::string& d = f->inode->data;
  const uint64_t end = static_cast<uint64_t>(offset) + n;
  if (end > d.size()) {
    const uint64_t grow = end - d.size();
    if (capacity_ != 0 && used_ + grow > capacity_) {
      // Write what fits, as a full disk does; ENOSPC when nothing does.
      const uint64_t room = capacity_ - used_;
      if (static_cast<uint64_t>(offset) >= d.size() + room) return -ENOSPC;
      n = static_cast<size_t>(d.size() + room - static_cast<uint64_t>(offset));
      if (n == 0) return -ENOSPC;
      return WriteLocked(f, buf, n, offset);
    }
    used_ += grow;
    d.resize(end);
  }
  std::memcpy(d.data() + offset, buf, n);
  f->inode->mtime = f->inode->ctime = Now();
  return static_cast<int64_t>(n);
}

int64_t MemFileSystem::Write(int fd, const void* buf, size_t n) {
  std::lock_guard<std::mutex> l(mu_);
  OpenFile* f;
  if (int r = Fd(fd, &f); r < 0) return r;
  if ((f->flags & O_APPEND) != 0) f->offset = static_cast<int64_t>(f->inode->data.size());
  int64_t w = WriteLocked(f, buf, n, f->offset);
  if (w > 0) f->offset += w;
  return w;
}

int64_t MemFileSystem::PWrite(int fd, const void* buf, size_t n, int64_t offset) {
  std::lock_guard<std::mutex> l(mu_);
  OpenFile* f;
  if (int r = Fd(fd, &f); r < 0) return r;
  return WriteLocked(f, buf, n, offset);
}

int MemFileSystem::Fsync(int fd) {
  std::lock_guard<std::mutex> l(mu_);
  OpenFile* f;
  return Fd(fd, &f);
}

int MemFileSystem::Ftruncate(int fd, int64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  OpenFile* f;
  if (int r = Fd(fd, &f); r < 0) return r;
  if (size < 0 || !S_ISREG(f->inode->mode) || (f->flags & O_ACCMODE) == O_RDONLY) return -EINVAL;
  std::string& d = f->inode->data;
  const uint64_t want = static_cast<uint64_t>(size);
  if (want > d.size()) {
    if (capacity_ != 0 && used_ + (want - d.size()) > capacity_) return -ENOSPC;
    used_ += want - d.size();
  } else {
    used_ -= d.size() - want;
  }
  d.resize(want);
  f->inode->mtime = f->inode->ctime = Now();
  return 0;
}

namespace {
void FillStat(const MemFileSystem::Inode& n, struct stat* st);
}

int MemFileSystem::Fstat(int fd, struct stat* st) {
  std::lock_guard<std::mutex> l(mu_);
  OpenFile* f;
  if (int r = Fd(fd, &f); r < 0) return r;
  FillStat(*f->inode, st);
  return 0;
}

int MemFileSystem::GetStatusFlags(int fd) {
  std::lock_guard<std::mutex> l(mu_);
  OpenFile* f;
  if (int r = Fd(fd, &f); r < 0) return r;
  return f->flags;
}

int MemFileSystem::SetStatusFlags(int fd, int flags) {
  std::lock_guard<std::mutex> l(mu_);
  OpenFile* f;
  if (int r = Fd(fd, &f); r < 0) return r;
  if ((flags & O_DIRECT) != 0) return -EINVAL;
  // F_SETFL changes only O_APPEND, O_NONBLOCK and friends; the access mode stays.
  f->flags = (f->flags & O_ACCMODE) | (flags & ~O_ACCMODE);
  return 0;
}

int MemFileSystem::GetInodeFlags(int fd, int* flags) {
  std::lock_guard<std::mutex> l(mu_);
  OpenFile* f;
  if (int r = Fd(fd, &f); r < 0) return r;
  *flags = f->inode->iflags;
  return 0;
}

int MemFileSystem::SetInodeFlags(int fd, int flags) {
  std::lock_guard<std::mutex> l(mu_);
  OpenFile* f;
  if (int r = Fd(fd, &f); r < 0) return r;
  f->inode->iflags = flags;
  f->inode->ctime = Now();
  return 0;
}

int MemFileSystem::Fchmod(int fd, mode_t mode) {
  std::lock_guard<std::mutex> l(mu_);
  OpenFile* f;
  if (int r = Fd(fd, &f); r < 0) return r;
  f->inode->mode = (f->inode->mode & S_IFMT) | (mode & 07777);
  f->inode->ctime = Now();
  return 0;
}

int MemFileSystem::Fchown(int fd, uid_t uid, gid_t gid) {
  std::lock_guard<std::mutex> l(mu_);
  OpenFile* f;
  if (int r = Fd(fd, &f); r < 0) return r;
  if (uid != static_cast<uid_t>(-1)) f->inode->uid = uid;
  if (gid != static_cast<gid_t>(-1)) f->inode->gid = gid;
  f->inode->ctime = Now();
  return 0;
}

int MemFileSystem::Fsetxattr(int fd, const char* name, const void* value, size_t size) {
  std::lock_guard<std::mutex> l(mu_);
  OpenFile* f;
  if (int r = Fd(fd, &f); r < 0) return r;
  f->inode->xattrs[name] = std::string(static_cast<const char*>(value), size);
  return 0;
}

namespace {
void SetTimes(MemFileSystem::Inode* n, const struct timespec times[2]) {
  const struct timespec now = Now();
  auto pick = [&](const struct timespec& t, struct timespec* dst) {
    if (t.tv_nsec == UTIME_OMIT) return;
    *dst = t.tv_nsec == UTIME_NOW ? now : t;
  };
  if (times == nullptr) {
    n->atime = n->mtime = now;
  } else {
    pick(times[0], &n->atime);
    pick(times[1], &n->mtime);
  }
  n->ctime = now;
}

void FillStat(const MemFileSystem::Inode& n, struct stat* st) {
  std::memset(st, 0, sizeof(*st));
  st->st_dev = 1;
  st->st_ino = n.ino;
  st->st_mode = n.mode;
  st->st_nlink = n.nlink;
  st->st_uid = n.uid;
  st->st_gid = n.gid;
  st->st_rdev = n.rdev;
  st->st_size = S_ISDIR(n.mode) ? 4096 : static_cast<off_t>(n.data.size());
  st->st_blksize = 4096;
  st->st_blocks = static_cast<blkcnt_t>((n.data.size() + 511) / 512);
  st->st_atim = n.atime;
  st->st_mtim = n.mtime;
  st->st_ctim = n.ctime;
}
}  // namespace

int MemFileSystem::Futimens(int fd, const struct timespec times[2]) {
  std::lock_guard<std::mutex> l(mu_);
  OpenFile* f;
  if (int r = Fd(fd, &f); r < 0) return r;
  SetTimes(f->inode.get(), times);
  return 0;
}

int MemFileSystem::ReadDir(int fd, std::vector<DirEntry>* out) {
  std::lock_guard<std::mutex> l(mu_);
  OpenFile* f;
  if (int r = Fd(fd, &f); r < 0) return r;
  if (!f->inode->IsDir()) return -ENOTDIR;
  for (const auto& [name, node] : f->inode->entries) {
    unsigned char type = DT_UNKNOWN;
    switch (node->mode & S_IFMT) {
      case S_IFREG:
        type = DT_REG;
        break;
      case S_IFDIR:
        type = DT_DIR;
        break;
      case S_IFLNK:
        type = DT_LNK;
        break;
      case S_IFIFO:
        type = DT_FIFO;
        break;
      case S_IFCHR:
        type = DT_CHR;
        break;
      case S_IFBLK:
        type = DT_BLK;
        break;
      case S_IFSOCK:
        type = DT_SOCK;
        break;
      default:
        break;
    }
    out->push_back({name, type});
  }
  return 0;
}

int MemFileSystem::MkdirAt(int dir, const char* path, mode_t mode) {
  std::lock_guard<std::mutex> l(mu_);
  Lookup lk;
  if (int r = Resolve(dir, path, false, &lk); r < 0) return r;
  if (lk.inode != nullptr) return -EEXIST;
  auto node = std::make_shared<Inode>();
  node->mode = S_IFDIR | (mode & 07777);
  node->ino = next_ino_++;
  node->nlink = 2;
  node->atime = node->mtime = node->ctime = Now();
  lk.parent->entries[lk.name] = node;
  lk.parent->nlink++;
  lk.parent->mtime = lk.parent->ctime = Now();
  return 0;
}

int MemFileSystem::UnlinkAt(int dir, const char* path, int flags) {
  std::lock_guard<std::mutex> l(mu_);
  Lookup lk;
  if (int r = Resolve(dir, path, false, &lk); r < 0) return r;
  if (lk.inode == nullptr) return -ENOENT;
  if (lk.name == "." || lk.name == "..") return -EINVAL;
  if ((flags & AT_REMOVEDIR) != 0) {
    if (!lk.inode->IsDir()) return -ENOTDIR;
    if (!lk.inode->entries.empty()) return -ENOTEMPTY;
    lk.parent->nlink--;
  } else {
    if (lk.inode->IsDir()) return -EISDIR;
    lk.inode->nlink--;
    lk.inode->ctime = Now();
  }
  lk.parent->entries.erase(lk.name);
  lk.parent->mtime = lk.parent->ctime = Now();
  return 0;
}

int MemFileSystem::RenameAt(int old_dir, const char* old_path, int new_dir, const char* new_path) {
  std::lock_guard<std::mutex> l(mu_);
  Lookup from, to;
  if (int r = Resolve(old_dir, old_path, false, &from); r < 0) return r;
  if (from.inode == nullptr) return -ENOENT;
  if (int r = Resolve(new_dir, new_path, false, &to); r < 0) return r;
  if (from.inode == to.inode) return 0;
  if (to.inode != nullptr) {
    if (from.inode->IsDir()) {
      if (!to.inode->IsDir()) return -ENOTDIR;
      if (!to.inode->entries.empty()) return -ENOTEMPTY;
      to.parent->nlink--;
    } else {
      if (to.inode->IsDir()) return -EISDIR;
      to.inode->nlink--;
    }
  }
  if (from.inode->IsDir()) {
    // Refuse to move a directory below itself.
    std::vector<std::shared_ptr<Inode>> todo{from.inode};
    while (!todo.empty()) {
      auto n = todo.back();
      todo.pop_back();
      if (n == to.parent) return -EINVAL;
      for (const auto& [name, c] : n->entries) {
        if (c->IsDir()) todo.push_back(c);
      }
    }
    from.parent->nlink--;
    to.parent->nlink++;
  }
  std::shared_ptr<Inode> node = from.inode;
  from.parent->entries.erase(from.name);
  to.parent->entries[to.name] = node;
  from.parent->mtime = from.parent->ctime = to.parent->mtime = to.parent->ctime = Now();
  return 0;
}

int MemFileSystem::LinkAt(int old_dir, const char* old_path, int new_dir, const char* new_path,
                          int flags) {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<Inode> node;
  const int follow = (flags & AT_SYMLINK_FOLLOW) != 0 ? 0 : AT_SYMLINK_NOFOLLOW;
  if (int r = ResolveInode(old_dir, old_path, follow, &node); r < 0) return r;
  if (node->IsDir()) return -EPERM;
  Lookup to;
  if (int r = Resolve(new_dir, new_path, false, &to); r < 0) return r;
  if (to.inode != nullptr) return -EEXIST;
  to.parent->entries[to.name] = node;
  node->nlink++;
  node->ctime = Now();
  to.parent->mtime = to.parent->ctime = Now();
  return 0;
}

int MemFileSystem::SymlinkAt(const char* target, int dir, const char* path) {
  std::lock_guard<std::mutex> l(mu_);
  Lookup lk;
  if (int r = Resolve(dir, path, false, &lk); r < 0) return r;
  if (lk.inode != nullptr) return -EEXIST;
  auto node = std::make_shared<Inode>();
  node->mode = S_IFLNK | 0777;
  node->ino = next_ino_++;
  node->nlink = 1;
  node->data = target;
  node->atime = node->mtime = node->ctime = Now();
  lk.parent->entries[lk.name] = node;
  lk.parent->mtime = lk.parent->ctime = Now();
  return 0;
}

int MemFileSystem::MknodAt(int dir, const char* path, mode_t mode, dev_t dev) {
  std::lock_guard<std::mutex> l(mu_);
  const mode_t type = mode & S_IFMT;
  if (type != S_IFIFO && type != S_IFCHR && type != S_IFBLK && type != S_IFREG && type != 0) {
    return -EINVAL;
  }
  Lookup lk;
  if (int r = Resolve(dir, path, false, &lk); r < 0) return r;
  if (lk.inode != nullptr) return -EEXIST;
  auto node = std::make_shared<Inode>();
  node->mode = (type == 0 ? S_IFREG : type) | (mode & 07777);
  node->ino = next_ino_++;
  node->nlink = 1;
  node->rdev = type == S_IFCHR || type == S_IFBLK ? dev : 0;
  if (S_ISREG(node->mode)) node->used = &used_;
  node->atime = node->mtime = node->ctime = Now();
  lk.parent->entries[lk.name] = node;
  lk.parent->mtime = lk.parent->ctime = Now();
  return 0;
}

int MemFileSystem::StatAt(int dir, const char* path, struct stat* st, int flags) {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<Inode> node;
  if (int r = ResolveInode(dir, path, flags, &node); r < 0) return r;
  FillStat(*node, st);
  return 0;
}

int MemFileSystem::ChmodAt(int dir, const char* path, mode_t mode) {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<Inode> node;
  if (int r = ResolveInode(dir, path, 0, &node); r < 0) return r;
  node->mode = (node->mode & S_IFMT) | (mode & 07777);
  node->ctime = Now();
  return 0;
}

int MemFileSystem::ChownAt(int dir, const char* path, uid_t uid, gid_t gid, int flags) {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<Inode> node;
  if (int r = ResolveInode(dir, path, flags, &node); r < 0) return r;
  if (uid != static_cast<uid_t>(-1)) node->uid = uid;
  if (gid != static_cast<gid_t>(-1)) node->gid = gid;
  node->ctime = Now();
  return 0;
}

int MemFileSystem::UtimensAt(int dir, const char* path, const struct timespec times[2], int flags) {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<Inode> node;
  if (int r = ResolveInode(dir, path, flags, &node); r < 0) return r;
  SetTimes(node.get(), times);
  return 0;
}

int MemFileSystem::Lsetxattr(const char* path, const char* name, const void* value, size_t size) {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<Inode> node;
  if (int r = ResolveInode(kCwd, path, AT_SYMLINK_NOFOLLOW, &node); r < 0) return r;
  // Linux allows only trusted.* and security.* on symlinks; user.* gets EPERM.
  if (S_ISLNK(node->mode) && std::string_view(name).rfind("user.", 0) == 0) return -EPERM;
  node->xattrs[name] = std::string(static_cast<const char*>(value), size);
  return 0;
}

}  // namespace clawback
