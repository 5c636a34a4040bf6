#include "common/file_system.h"

#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace clawback {

// ---------------------------------------------------------------------------------------
// FileSystem

FileSystem* FileSystem::Default() {
  static PosixFileSystem* fs = new PosixFileSystem();  // never destroyed
  return fs;
}

int FileSystem::WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    int64_t n = Write(fd, data.data(), data.size());
    if (n < 0) return static_cast<int>(n);
    if (n == 0) return -EIO;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

int64_t FileSystem::ReadFull(int fd, void* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    int64_t r = Read(fd, static_cast<char*>(buf) + got, n - got);
    if (r < 0) return r;
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<int64_t>(got);
}

// ---------------------------------------------------------------------------------------
// PosixFileSystem

namespace {

inline int Ret(int r) { return r < 0 ? -errno : r; }
inline int64_t Ret64(ssize_t r) { return r < 0 ? -static_cast<int64_t>(errno) : r; }

template <typename F>
inline auto Retry(F f) {
  for (;;) {
    auto r = f();
    if (r >= 0 || errno != EINTR) return r;
  }
}

}  // namespace

int PosixFileSystem::OpenAt(int dir, const char* path, int flags, mode_t mode) {
  return Ret(Retry([&] { return ::openat(dir, path, flags, mode); }));
}
int PosixFileSystem::Close(int fd) {
  // close() is not retried on EINTR: on Linux the descriptor is gone either way.
  return Ret(::close(fd));
}
int64_t PosixFileSystem::Read(int fd, void* buf, size_t n) {
  return Ret64(Retry([&] { return ::read(fd, buf, n); }));
}
int64_t PosixFileSystem::PRead(int fd, void* buf, size_t n, int64_t offset) {
  return Ret64(Retry([&] { return ::pread(fd, buf, n, static_cast<off_t>(offset)); }));
}
int64_t PosixFileSystem::Write(int fd, const void* buf, size_t n) {
  return Ret64(Retry([&] { return ::write(fd, buf, n); }));
}
int64_t PosixFileSystem::PWrite(int fd, const void* buf, size_t n, int64_t offset) {
  return Ret64(Retry([&] { return ::pwrite(fd, buf, n, static_cast<off_t>(offset)); }));
}
int PosixFileSystem::Fsync(int fd) {
  return Ret(Retry([&] { return ::fsync(fd); }));
}
int PosixFileSystem::Ftruncate(int fd, int64_t size) {
  return Ret(Retry([&] { return ::ftruncate(fd, static_cast<off_t>(size)); }));
}
int PosixFileSystem::Fstat(int fd, struct stat* st) { return Ret(::fstat(fd, st)); }
int PosixFileSystem::GetStatusFlags(int fd) { return Ret(::fcntl(fd, F_GETFL)); }
int PosixFileSystem::SetStatusFlags(int fd, int flags) { return Ret(::fcntl(fd, F_SETFL, flags)); }
int PosixFileSystem::GetInodeFlags(int fd, int* flags) {
  return Ret(::ioctl(fd, FS_IOC_GETFLAGS, flags));
}
int PosixFileSystem::SetInodeFlags(int fd, int flags) {
  return Ret(::ioctl(fd, FS_IOC_SETFLAGS, &flags));
}
int PosixFileSystem::Fchmod(int fd, mode_t mode) { return Ret(::fchmod(fd, mode)); }
int PosixFileSystem::Fchown(int fd, uid_t uid, gid_t gid) { return Ret(::fchown(fd, uid, gid)); }
int PosixFileSystem::Fsetxattr(int fd, const char* name, const void* value, size_t size) {
  return Ret(::fsetxattr(fd, name, value, size, 0));
}
int PosixFileSystem::Futimens(int fd, const struct timespec times[2]) {
  return Ret(::futimens(fd, times));
}
int PosixFileSystem::ReadDir(int fd, std::vector<DirEntry>* out) {
  const int copy = ::dup(fd);  // closedir closes the descriptor it was given
  if (copy < 0) return -errno;
  DIR* d = ::fdopendir(copy);
  if (d == nullptr) {
    const int err = errno;
    ::close(copy);
    return -err;
  }
  ::rewinddir(d);
  errno = 0;
  int result = 0;
  while (struct dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    out->push_back({e->d_name, e->d_type});
  }
  if (errno != 0) result = -errno;
  ::closedir(d);
  return result;
}
int PosixFileSystem::MkdirAt(int dir, const char* path, mode_t mode) {
  return Ret(::mkdirat(dir, path, mode));
}
int PosixFileSystem::UnlinkAt(int dir, const char* path, int flags) {
  return Ret(::unlinkat(dir, path, flags));
}
int PosixFileSystem::RenameAt(int old_dir, const char* old_path, int new_dir,
                              const char* new_path) {
  return Ret(::renameat(old_dir, old_path, new_dir, new_path));
}
int PosixFileSystem::LinkAt(int old_dir, const char* old_path, int new_dir, const char* new_path,
                            int flags) {
  return Ret(::linkat(old_dir, old_path, new_dir, new_path, flags));
}
int PosixFileSystem::SymlinkAt(const char* target, int dir, const char* path) {
  return Ret(::symlinkat(target, dir, path));
}
int PosixFileSystem::MknodAt(int dir, const char* path, mode_t mode, dev_t dev) {
  return Ret(::mknodat(dir, path, mode, dev));
}
int PosixFileSystem::StatAt(int dir, const char* path, struct stat* st, int flags) {
  return Ret(::fstatat(dir, path, st, flags));
}
int PosixFileSystem::ChmodAt(int dir, const char* path, mode_t mode) {
  return Ret(::fchmodat(dir, path, mode, 0));
}
int PosixFileSystem::ChownAt(int dir, const char* path, uid_t uid, gid_t gid, int flags) {
  return Ret(::fchownat(dir, path, uid, gid, flags));
}
int PosixFileSystem::UtimensAt(int dir, const char* path, const struct timespec times[2],
                               int flags) {
  return Ret(::utimensat(dir, path, times, flags));
}
int PosixFileSystem::Lsetxattr(const char* path, const char* name, const void* value, size_t size) {
  return Ret(::lsetxattr(path, name, value, size, 0));
}

}  // namespace clawback
