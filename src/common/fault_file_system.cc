#include "common/file_system.h"

#include <cerrno>

namespace clawback {

// ---------------------------------------------------------------------------------------
// FaultFileSystem

std::string_view FsOpName(FsOp op) {
  switch (op) {
    case FsOp::kOpen:
      return "open";
    case FsOp::kClose:
      return "close";
    case FsOp::kRead:
      return "read";
    case FsOp::kWrite:
      return "write";
    case FsOp::kFsync:
      return "fsync";
    case FsOp::kTruncate:
      return "truncate";
    case FsOp::kStat:
      return "stat";
    case FsOp::kStatusFlags:
      return "fcntl";
    case FsOp::kMetadata:
      return "metadata";
    case FsOp::kReadDir:
      return "readdir";
    case FsOp::kMkdir:
      return "mkdir";
    case FsOp::kUnlink:
      return "unlink";
    case FsOp::kRename:
      return "rename";
    case FsOp::kLink:
      return "link";
    case FsOp::kSymlink:
      return "symlink";
    case FsOp::kMknod:
      return "mknod";
  }
  return "?";
}

void FaultFileSystem::Add(Fault fault) {
  std::lock_guard<std::mutex> l(mu_);
  rules_.push_back({std::move(fault), 0});
}

void FaultFileSystem::Clear() {
  std::lock_guard<std::mutex> l(mu_);
  rules_.clear();
}

uint64_t FaultFileSystem::Count(FsOp op) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = counts_.find(op);
  return it == counts_.end() ? 0 : it->second;
}

uint64_t FaultFileSystem::Fired() const {
  std::lock_guard<std::mutex> l(mu_);
  return fired_;
}

int FaultFileSystem::Check(FsOp op, const std::string& path, const std::string& path2) {
  std::function<void()> crash;
  int err = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    counts_[op]++;
    const FsCall call{op, path, path2};
    for (Rule& rule : rules_) {
      const Fault& f = rule.fault;
      if (f.op != Fault::kAny && f.op != op) continue;
      if (f.when && !f.when(call)) continue;
      rule.seen++;
      if (f.nth != 0 && rule.seen != f.nth) continue;
      fired_++;
      crash = f.crash;
      err = f.err != 0 ? f.err : EIO;
      break;
    }
  }
  if (crash) crash();  // outside the lock: it may inspect this file system
  return -err;
}

std::string FaultFileSystem::PathOfFd(int fd) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = fd_paths_.find(fd);
  return it == fd_paths_.end() ? std::string() : it->second;
}

std::string FaultFileSystem::PathAt(int dir, const char* path) {
  if (path == nullptr) return std::string();
  if (dir == kCwd || path[0] == '/') return path;
  std::string base = PathOfFd(dir);
  return base + "/" + path;
}

int FaultFileSystem::OpenAt(int dir, const char* path, int flags, mode_t mode) {
  std::string p = PathAt(dir, path);
  if (int r = Check(FsOp::kOpen, p); r < 0) return r;
  int fd = base()->OpenAt(dir, path, flags, mode);
  if (fd >= 0) {
    std::lock_guard<std::mutex> l(mu_);
    fd_paths_[fd] = std::move(p);
  }
  return fd;
}

int FaultFileSystem::Close(int fd) {
  std::string p = PathOfFd(fd);
  {
    std::lock_guard<std::mutex> l(mu_);
    fd_paths_.erase(fd);
  }
  // A failed close still releases the descriptor (as on Linux): close it below, then fail.
  int r = Check(FsOp::kClose, p);
  int c = base()->Close(fd);
  return r < 0 ? r : c;
}

int64_t FaultFileSystem::Read(int fd, void* buf, size_t n) {
  if (int r = Check(FsOp::kRead, PathOfFd(fd)); r < 0) return r;
  return base()->Read(fd, buf, n);
}
int64_t FaultFileSystem::PRead(int fd, void* buf, size_t n, int64_t offset) {
  if (int r = Check(FsOp::kRead, PathOfFd(fd)); r < 0) return r;
  return base()->PRead(fd, buf, n, offset);
}
int64_t FaultFileSystem::Write(int fd, const void* buf, size_t n) {
  if (int r = Check(FsOp::kWrite, PathOfFd(fd)); r < 0) return r;
  return base()->Write(fd, buf, n);
}
int64_t FaultFileSystem::PWrite(int fd, const void* buf, size_t n, int64_t offset) {
  if (int r = Check(FsOp::kWrite, PathOfFd(fd)); r < 0) return r;
  return base()->PWrite(fd, buf, n, offset);
}
int FaultFileSystem::Fsync(int fd) {
  if (int r = Check(FsOp::kFsync, PathOfFd(fd)); r < 0) return r;
  return base()->Fsync(fd);
}
int FaultFileSystem::Ftruncate(int fd, int64_t size) {
  if (int r = Check(FsOp::kTruncate, PathOfFd(fd)); r < 0) return r;
  return base()->Ftruncate(fd, size);
}
int FaultFileSystem::Fstat(int fd, struct stat* st) {
  if (int r = Check(FsOp::kStat, PathOfFd(fd)); r < 0) return r;
  return base()->Fstat(fd, st);
}
int FaultFileSystem::GetStatusFlags(int fd) {
  if (int r = Check(FsOp::kStatusFlags, PathOfFd(fd)); r < 0) return r;
  return base()->GetStatusFlags(fd);
}
int FaultFileSystem::SetStatusFlags(int fd, int flags) {
  if (int r = Check(FsOp::kStatusFlags, PathOfFd(fd)); r < 0) return r;
  return base()->SetStatusFlags(fd, flags);
}
int FaultFileSystem::GetInodeFlags(int fd, int* flags) {
  if (int r = Check(FsOp::kMetadata, PathOfFd(fd)); r < 0) return r;
  return base()->GetInodeFlags(fd, flags);
}
int FaultFileSystem::SetInodeFlags(int fd, int flags) {
  if (int r = Check(FsOp::kMetadata, PathOfFd(fd)); r < 0) return r;
  return base()->SetInodeFlags(fd, flags);
}
int FaultFileSystem::Fchmod(int fd, mode_t mode) {
  if (int r = Check(FsOp::kMetadata, PathOfFd(fd)); r < 0) return r;
  return base()->Fchmod(fd, mode);
}
int FaultFileSystem::Fchown(int fd, uid_t uid, gid_t gid) {
  if (int r = Check(FsOp::kMetadata, PathOfFd(fd)); r < 0) return r;
  return base()->Fchown(fd, uid, gid);
}
int FaultFileSystem::Fsetxattr(int fd, const char* name, const void* value, size_t size) {
  if (int r = Check(FsOp::kMetadata, PathOfFd(fd)); r < 0) return r;
  return base()->Fsetxattr(fd, name, value, size);
}
int FaultFileSystem::Futimens(int fd, const struct timespec times[2]) {
  if (int r = Check(FsOp::kMetadata, PathOfFd(fd)); r < 0) return r;
  return base()->Futimens(fd, times);
}
int FaultFileSystem::ReadDir(int fd, std::vector<DirEntry>* out) {
  if (int r = Check(FsOp::kReadDir, PathOfFd(fd)); r < 0) return r;
  return base()->ReadDir(fd, out);
}
int FaultFileSystem::MkdirAt(int dir, const char* path, mode_t mode) {
  if (int r = Check(FsOp::kMkdir, PathAt(dir, path)); r < 0) return r;
  return base()->MkdirAt(dir, path, mode);
}
int FaultFileSystem::UnlinkAt(int dir, const char* path, int flags) {
  if (int r = Check(FsOp::kUnlink, PathAt(dir, path)); r < 0) return r;
  return base()->UnlinkAt(dir, path, flags);
}
int FaultFileSystem::RenameAt(int old_dir, const char* old_path, int new_dir,
                              const char* new_path) {
  if (int r = Check(FsOp::kRename, PathAt(old_dir, old_path), PathAt(new_dir, new_path)); r < 0) {
    return r;
  }
  return base()->RenameAt(old_dir, old_path, new_dir, new_path);
}
int FaultFileSystem::LinkAt(int old_dir, const char* old_path, int new_dir, const char* new_path,
                            int flags) {
  if (int r = Check(FsOp::kLink, PathAt(old_dir, old_path), PathAt(new_dir, new_path)); r < 0) {
    return r;
  }
  return base()->LinkAt(old_dir, old_path, new_dir, new_path, flags);
}
int FaultFileSystem::SymlinkAt(const char* target, int dir, const char* path) {
  if (int r = Check(FsOp::kSymlink, PathAt(dir, path), target); r < 0) return r;
  return base()->SymlinkAt(target, dir, path);
}
int FaultFileSystem::MknodAt(int dir, const char* path, mode_t mode, dev_t dev) {
  if (int r = Check(FsOp::kMknod, PathAt(dir, path)); r < 0) return r;
  return base()->MknodAt(dir, path, mode, dev);
}
int FaultFileSystem::StatAt(int dir, const char* path, struct stat* st, int flags) {
  if (int r = Check(FsOp::kStat, PathAt(dir, path)); r < 0) return r;
  return base()->StatAt(dir, path, st, flags);
}
int FaultFileSystem::ChmodAt(int dir, const char* path, mode_t mode) {
  if (int r = Check(FsOp::kMetadata, PathAt(dir, path)); r < 0) return r;
  return base()->ChmodAt(dir, path, mode);
}
int FaultFileSystem::ChownAt(int dir, const char* path, uid_t uid, gid_t gid, int flags) {
  if (int r = Check(FsOp::kMetadata, PathAt(dir, path)); r < 0) return r;
  return base()->ChownAt(dir, path, uid, gid, flags);
}
int FaultFileSystem::UtimensAt(int dir, const char* path, const struct timespec times[2],
                               int flags) {
  if (int r = Check(FsOp::kMetadata, PathAt(dir, path)); r < 0) return r;
  return base()->UtimensAt(dir, path, times, flags);
}
int FaultFileSystem::Lsetxattr(const char* path, const char* name, const void* value, size_t size) {
  if (int r = Check(FsOp::kMetadata, path); r < 0) return r;
  return base()->Lsetxattr(path, name, value, size);
}

}  // namespace clawback
