// FileSystem: the seam between clawback and the local file system, for the code that writes
// what a user or a repository depends on (the restorer, the local backend), so tests can run
// it in memory or make any single call fail.
//
// The calls mirror the POSIX calls they replace, descriptor- and directory-relative ones
// included (OpenAt, MkdirAt, ... take a directory descriptor or kCwd), and so does their
// result: a value >= 0 (0, a descriptor, a byte count) on success and -errno on failure.
// This is the one place in clawback that does not return Status: the layer above knows the
// path to name in the message (a *at call only knows the last component), and it needs the
// errno itself (EEXIST before replacing, EINVAL from O_DIRECT). FsStatus() below turns a
// result into a Status ("write /x/y: No space left on device"). EINTR is retried inside.
//
// Implementations (one conformance suite for all: file_system_test.cc):
//   PosixFileSystem      the real one; FileSystem::Default(). Each call is the syscall.
//   MemFileSystem        in memory, for fast unit tests (file_system.cc has its limits).
//   ForwardingFileSystem forwards every call to another; override one to change it.
//   FaultFileSystem      wraps another and fails (or "crashes" at) chosen calls.
//
// Descriptors of one FileSystem only mean something to that FileSystem (a MemFileSystem's
// are not kernel descriptors).
//
// Thread-safety: every implementation here is safe to call from many threads at once, as
// the kernel is (MemFileSystem and FaultFileSystem serialise on a mutex).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace clawback {

// What ReadDir returns for one entry ("." and ".." are left out).
struct DirEntry {
  std::string name;
  unsigned char type = DT_UNKNOWN;  // DT_REG, DT_DIR, DT_LNK, ... (DT_UNKNOWN: StatAt it)
};

class FileSystem {
 public:
  static constexpr int kCwd = AT_FDCWD;

  virtual ~FileSystem() = default;

  // The process-wide PosixFileSystem (never destroyed).
  static FileSystem* Default();

  // Descriptors. Flags and modes are open(2)'s; O_CLOEXEC is up to the caller.
  [[nodiscard]] virtual int OpenAt(int dir, const char* path, int flags, mode_t mode) = 0;
  [[nodiscard]] virtual int Close(int fd) = 0;
  [[nodiscard]] virtual int64_t Read(int fd, void* buf, size_t n) = 0;
  [[nodiscard]] virtual int64_t PRead(int fd, void* buf, size_t n, int64_t offset) = 0;
  [[nodiscard]] virtual int64_t Write(int fd, const void* buf, size_t n) = 0;
  [[nodiscard]] virtual int64_t PWrite(int fd, const void* buf, size_t n, int64_t offset) = 0;
  [[nodiscard]] virtual int Fsync(int fd) = 0;
  [[nodiscard]] virtual int Ftruncate(int fd, int64_t size) = 0;
  [[nodiscard]] virtual int Fstat(int fd, struct stat* st) = 0;
  // fcntl(F_GETFL) / fcntl(F_SETFL): the result is the flags.
  [[nodiscard]] virtual int GetStatusFlags(int fd) = 0;
  [[nodiscard]] virtual int SetStatusFlags(int fd, int flags) = 0;
  // ioctl(FS_IOC_GETFLAGS / FS_IOC_SETFLAGS): inode flags such as FS_TOPDIR_FL.
  [[nodiscard]] virtual int GetInodeFlags(int fd, int* flags) = 0;
  [[nodiscard]] virtual int SetInodeFlags(int fd, int flags) = 0;
  // Metadata through a descriptor.
  [[nodiscard]] virtual int Fchmod(int fd, mode_t mode) = 0;
  [[nodiscard]] virtual int Fchown(int fd, uid_t uid, gid_t gid) = 0;
  [[nodiscard]] virtual int Fsetxattr(int fd, const char* name, const void* value, size_t size) = 0;
  [[nodiscard]] virtual int Futimens(int fd, const struct timespec times[2]) = 0;
  // The entries of the directory open as `fd` (read from its start), in no set order.
  [[nodiscard]] virtual int ReadDir(int fd, std::vector<DirEntry>* out) = 0;

  // Directory-relative calls (`dir` is a directory descriptor or kCwd); `flags` as in the
  // *at(2) calls (AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR).
  [[nodiscard]] virtual int MkdirAt(int dir, const char* path, mode_t mode) = 0;
  [[nodiscard]] virtual int UnlinkAt(int dir, const char* path, int flags) = 0;
  [[nodiscard]] virtual int RenameAt(int old_dir, const char* old_path, int new_dir,
                                     const char* new_path) = 0;
  [[nodiscard]] virtual int LinkAt(int old_dir, const char* old_path, int new_dir,
                                   const char* new_path, int flags) = 0;
  [[nodiscard]] virtual int SymlinkAt(const char* target, int dir, const char* path) = 0;
  [[nodiscard]] virtual int MknodAt(int dir, const char* path, mode_t mode, dev_t dev) = 0;
  [[nodiscard]] virtual int StatAt(int dir, const char* path, struct stat* st, int flags) = 0;
  // Metadata by path (`flags`: AT_SYMLINK_NOFOLLOW or 0; chmod always follows, as on Linux).
  [[nodiscard]] virtual int ChmodAt(int dir, const char* path, mode_t mode) = 0;
  [[nodiscard]] virtual int ChownAt(int dir, const char* path, uid_t uid, gid_t gid, int flags) = 0;
  [[nodiscard]] virtual int UtimensAt(int dir, const char* path, const struct timespec times[2],
                                      int flags) = 0;
  // lsetxattr(2): never follows a symlink.
  [[nodiscard]] virtual int Lsetxattr(const char* path, const char* name, const void* value,
                                      size_t size) = 0;

  // Path shorthands (relative paths from the working directory).
  [[nodiscard]] int Open(const std::string& path, int flags, mode_t mode = 0) {
    return OpenAt(kCwd, path.c_str(), flags, mode);
  }
  [[nodiscard]] int Stat(const std::string& path, struct stat* st) {
    return StatAt(kCwd, path.c_str(), st, 0);
  }
  [[nodiscard]] int Lstat(const std::string& path, struct stat* st) {
    return StatAt(kCwd, path.c_str(), st, AT_SYMLINK_NOFOLLOW);
  }
  [[nodiscard]] int Mkdir(const std::string& path, mode_t mode) {
    return MkdirAt(kCwd, path.c_str(), mode);
  }
  [[nodiscard]] int Unlink(const std::string& path) { return UnlinkAt(kCwd, path.c_str(), 0); }
  [[nodiscard]] int Rename(const std::string& from, const std::string& to) {
    return RenameAt(kCwd, from.c_str(), kCwd, to.c_str());
  }
  [[nodiscard]] int Link(const std::string& from, const std::string& to) {
    return LinkAt(kCwd, from.c_str(), kCwd, to.c_str(), 0);
  }
  // Writes all of `data` (looping over short writes); -errno on the first failure.
  [[nodiscard]] int WriteAll(int fd, std::string_view data);
  // Reads until `n` bytes or the end of the file; the count read, or -errno.
  [[nodiscard]] int64_t ReadFull(int fd, void* buf, size_t n);
};

// OK when r >= 0, else ErrnoStatus(what, -r): "what: strerror".
inline Status FsStatus(std::string_view what, int64_t r) {
  return r >= 0 ? Status::Ok() : ErrnoStatus(what, static_cast<int>(-r));
}

// The real file system: each call is the syscall (EINTR retried), -errno on failure.
class PosixFileSystem final : public FileSystem {
 public:
  // FileSystem
  int OpenAt(int dir, const char* path, int flags, mode_t mode) override;
  int Close(int fd) override;
  int64_t Read(int fd, void* buf, size_t n) override;
  int64_t PRead(int fd, void* buf, size_t n, int64_t offset) override;
  int64_t Write(int fd, const void* buf, size_t n) override;
  int64_t PWrite(int fd, const void* buf, size_t n, int64_t offset) override;
  int Fsync(int fd) override;
  int Ftruncate(int fd, int64_t size) override;
  int Fstat(int fd, struct stat* st) override;
  int GetStatusFlags(int fd) override;
  int SetStatusFlags(int fd, int flags) override;
  int GetInodeFlags(int fd, int* flags) override;
  int SetInodeFlags(int fd, int flags) override;
  int Fchmod(int fd, mode_t mode) override;
  int Fchown(int fd, uid_t uid, gid_t gid) override;
  int Fsetxattr(int fd, const char* name, const void* value, size_t size) override;
  int Futimens(int fd, const struct timespec times[2]) override;
  int ReadDir(int fd, std::vector<DirEntry>* out) override;
  int MkdirAt(int dir, const char* path, mode_t mode) override;
  int UnlinkAt(int dir, const char* path, int flags) override;
  int RenameAt(int old_dir, const char* old_path, int new_dir, const char* new_path) override;
  int LinkAt(int old_dir, const char* old_path, int new_dir, const char* new_path,
             int flags) override;
  int SymlinkAt(const char* target, int dir, const char* path) override;
  int MknodAt(int dir, const char* path, mode_t mode, dev_t dev) override;
  int StatAt(int dir, const char* path, struct stat* st, int flags) override;
  int ChmodAt(int dir, const char* path, mode_t mode) override;
  int ChownAt(int dir, const char* path, uid_t uid, gid_t gid, int flags) override;
  int UtimensAt(int dir, const char* path, const struct timespec times[2], int flags) override;
  int Lsetxattr(const char* path, const char* name, const void* value, size_t size) override;
};

// Forwards every call to `base` (not owned); a subclass overrides what it changes.
class ForwardingFileSystem : public FileSystem {
 public:
  explicit ForwardingFileSystem(FileSystem* base) : base_(base) {}

  // FileSystem
  int OpenAt(int dir, const char* path, int flags, mode_t mode) override {
    return base_->OpenAt(dir, path, flags, mode);
  }
  int Close(int fd) override { return base_->Close(fd); }
  int64_t Read(int fd, void* buf, size_t n) override { return base_->Read(fd, buf, n); }
  int64_t PRead(int fd, void* buf, size_t n, int64_t offset) override {
    return base_->PRead(fd, buf, n, offset);
  }
  int64_t Write(int fd, const void* buf, size_t n) override { return base_->Write(fd, buf, n); }
  int64_t PWrite(int fd, const void* buf, size_t n, int64_t offset) override {
    return base_->PWrite(fd, buf, n, offset);
  }
  int Fsync(int fd) override { return base_->Fsync(fd); }
  int Ftruncate(int fd, int64_t size) override { return base_->Ftruncate(fd, size); }
  int Fstat(int fd, struct stat* st) override { return base_->Fstat(fd, st); }
  int GetStatusFlags(int fd) override { return base_->GetStatusFlags(fd); }
  int SetStatusFlags(int fd, int flags) override { return base_->SetStatusFlags(fd, flags); }
  int GetInodeFlags(int fd, int* flags) override { return base_->GetInodeFlags(fd, flags); }
  int SetInodeFlags(int fd, int flags) override { return base_->SetInodeFlags(fd, flags); }
  int Fchmod(int fd, mode_t mode) override { return base_->Fchmod(fd, mode); }
  int Fchown(int fd, uid_t uid, gid_t gid) override { return base_->Fchown(fd, uid, gid); }
  int Fsetxattr(int fd, const char* name, const void* value, size_t size) override {
    return base_->Fsetxattr(fd, name, value, size);
  }
  int Futimens(int fd, const struct timespec times[2]) override {
    return base_->Futimens(fd, times);
  }
  int ReadDir(int fd, std::vector<DirEntry>* out) override { return base_->ReadDir(fd, out); }
  int MkdirAt(int dir, const char* path, mode_t mode) override {
    return base_->MkdirAt(dir, path, mode);
  }
  int UnlinkAt(int dir, const char* path, int flags) override {
    return base_->UnlinkAt(dir, path, flags);
  }
  int RenameAt(int old_dir, const char* old_path, int new_dir, const char* new_path) override {
    return base_->RenameAt(old_dir, old_path, new_dir, new_path);
  }
  int LinkAt(int old_dir, const char* old_path, int new_dir, const char* new_path,
             int flags) override {
    return base_->LinkAt(old_dir, old_path, new_dir, new_path, flags);
  }
  int SymlinkAt(const char* target, int dir, const char* path) override {
    return base_->SymlinkAt(target, dir, path);
  }
  int MknodAt(int dir, const char* path, mode_t mode, dev_t dev) override {
    return base_->MknodAt(dir, path, mode, dev);
  }
  int StatAt(int dir, const char* path, struct stat* st, int flags) override {
    return base_->StatAt(dir, path, st, flags);
  }
  int ChmodAt(int dir, const char* path, mode_t mode) override {
    return base_->ChmodAt(dir, path, mode);
  }
  int ChownAt(int dir, const char* path, uid_t uid, gid_t gid, int flags) override {
    return base_->ChownAt(dir, path, uid, gid, flags);
  }
  int UtimensAt(int dir, const char* path, const struct timespec times[2], int flags) override {
    return base_->UtimensAt(dir, path, times, flags);
  }
  int Lsetxattr(const char* path, const char* name, const void* value, size_t size) override {
    return base_->Lsetxattr(path, name, value, size);
  }

 protected:
  FileSystem* base() const { return base_; }

 private:
  FileSystem* base_;
};

// A file system in memory: a tree of directories, regular files, symlinks and special
// files with modes, owners, times, xattrs and inode flags, and its own descriptor table.
// Paths resolve from "/" (also relative ones with kCwd); symlinks are followed (at most 40
// deep) except where a call says not to. Not modelled: permission checks (every caller is
// root), O_DIRECT (EINVAL, as tmpfs), sparse files, mount points. `capacity` bounds the
// bytes of all regular files (ENOSPC past it; 0: unbounded).
class MemFileSystem : public FileSystem {
 public:
  explicit MemFileSystem(uint64_t capacity = 0);
  ~MemFileSystem() override;

  // Bytes held by regular files.
  uint64_t UsedBytes() const;
  // Descriptors open at the moment (leak checks in tests).
  size_t OpenDescriptors() const;

  // FileSystem
  int OpenAt(int dir, const char* path, int flags, mode_t mode) override;
  int Close(int fd) override;
  int64_t Read(int fd, void* buf, size_t n) override;
  int64_t PRead(int fd, void* buf, size_t n, int64_t offset) override;
  int64_t Write(int fd, const void* buf, size_t n) override;
  int64_t PWrite(int fd, const void* buf, size_t n, int64_t offset) override;
  int Fsync(int fd) override;
  int Ftruncate(int fd, int64_t size) override;
  int Fstat(int fd, struct stat* st) override;
  int GetStatusFlags(int fd) override;
  int SetStatusFlags(int fd, int flags) override;
  int GetInodeFlags(int fd, int* flags) override;
  int SetInodeFlags(int fd, int flags) override;
  int Fchmod(int fd, mode_t mode) override;
  int Fchown(int fd, uid_t uid, gid_t gid) override;
  int Fsetxattr(int fd, const char* name, const void* value, size_t size) override;
  int Futimens(int fd, const struct timespec times[2]) override;
  int ReadDir(int fd, std::vector<DirEntry>* out) override;
  int MkdirAt(int dir, const char* path, mode_t mode) override;
  int UnlinkAt(int dir, const char* path, int flags) override;
  int RenameAt(int old_dir, const char* old_path, int new_dir, const char* new_path) override;
  int LinkAt(int old_dir, const char* old_path, int new_dir, const char* new_path,
             int flags) override;
  int SymlinkAt(const char* target, int dir, const char* path) override;
  int MknodAt(int dir, const char* path, mode_t mode, dev_t dev) override;
  int StatAt(int dir, const char* path, struct stat* st, int flags) override;
  int ChmodAt(int dir, const char* path, mode_t mode) override;
  int ChownAt(int dir, const char* path, uid_t uid, gid_t gid, int flags) override;
  int UtimensAt(int dir, const char* path, const struct timespec times[2], int flags) override;
  int Lsetxattr(const char* path, const char* name, const void* value, size_t size) override;

  struct Inode;

 private:
  struct OpenFile;
  struct Lookup;
  // REQUIRES: mu_ held.
  int Resolve(int dir, const char* path, bool follow_last, Lookup* out);
  int ResolveInode(int dir, const char* path, int flags, std::shared_ptr<Inode>* out);
  int Fd(int fd, OpenFile** out);
  int64_t WriteLocked(OpenFile* f, const void* buf, size_t n, int64_t offset);

  mutable std::mutex mu_;
  const uint64_t capacity_;
  uint64_t used_ = 0;                             // GUARDED_BY(mu_)
  uint64_t next_ino_ = 2;                         // GUARDED_BY(mu_)
  std::shared_ptr<Inode> root_;                   // GUARDED_BY(mu_)
  std::map<int, std::unique_ptr<OpenFile>> fds_;  // GUARDED_BY(mu_)
  int next_fd_ = 3;                               // GUARDED_BY(mu_)
};

// The calls FaultFileSystem tells apart. Write counts Write and PWrite; Metadata counts
// Fchmod, Fchown, Fsetxattr, Futimens, ChmodAt, ChownAt, UtimensAt, Lsetxattr and the inode
// flags; Stat counts Fstat and StatAt.
enum class FsOp {
  kOpen,
  kClose,
  kRead,
  kWrite,
  kFsync,
  kTruncate,
  kStat,
  kStatusFlags,
  kMetadata,
  kReadDir,
  kMkdir,
  kUnlink,
  kRename,
  kLink,
  kSymlink,
  kMknod,
};
std::string_view FsOpName(FsOp op);

// One call as FaultFileSystem sees it: `path` is the path the call names, for descriptor
// calls the path the descriptor was opened with, joined to its directory's path for *at
// calls (for RenameAt/LinkAt the source; `path2` the destination).
struct FsCall {
  FsOp op;
  std::string_view path;
  std::string_view path2;
};

// Wraps `base` (not owned) and makes chosen calls fail with an errno, or "crash" there.
//
//   FaultFileSystem f(FileSystem::Default());
//   f.FailNth(FsOp::kWrite, 3, ENOSPC);              // the 3rd write fails
//   f.Add({.op = FsOp::kFsync, .err = EIO});         // every fsync fails
//   f.Add({.when = [](const FsCall& c) { return c.path.ends_with("/big"); }, .nth = 2});
//   f.CrashNth(FsOp::kRename, 1, [] { _exit(70); });  // stop at the first rename
//
// Each fault counts the calls it matches (op, when kAny every op, and `when` if set) and
// fires on the nth of them (every one when nth is 0); a fired fault does not forward the
// call: it runs `crash` if set (if that returns, the call fails too) and returns -err.
// Faults are checked in the order added; the first that fires wins.
class FaultFileSystem : public ForwardingFileSystem {
 public:
  struct Fault {
    static constexpr FsOp kAny = static_cast<FsOp>(-1);
    FsOp op = kAny;
    std::function<bool(const FsCall&)> when;  // null: every call of `op`
    uint64_t nth = 0;                         // 1-based; 0: every matching call
    int err = EIO;
    std::function<void()> crash;  // called instead of the operation
  };

  explicit FaultFileSystem(FileSystem* base) : ForwardingFileSystem(base) {}

  void Add(Fault fault);
  void FailNth(FsOp op, uint64_t nth, int err) { Add({FsOp(op), nullptr, nth, err, nullptr}); }
  void CrashNth(FsOp op, uint64_t nth, std::function<void()> crash) {
    Add({op, nullptr, nth, EIO, std::move(crash)});
  }
  void Clear();
  // Calls of `op` seen so far (failed ones included).
  uint64_t Count(FsOp op) const;
  // Faults that fired so far.
  uint64_t Fired() const;

  // FileSystem
  int OpenAt(int dir, const char* path, int flags, mode_t mode) override;
  int Close(int fd) override;
  int64_t Read(int fd, void* buf, size_t n) override;
  int64_t PRead(int fd, void* buf, size_t n, int64_t offset) override;
  int64_t Write(int fd, const void* buf, size_t n) override;
  int64_t PWrite(int fd, const void* buf, size_t n, int64_t offset) override;
  int Fsync(int fd) override;
  int Ftruncate(int fd, int64_t size) override;
  int Fstat(int fd, struct stat* st) override;
  int GetStatusFlags(int fd) override;
  int SetStatusFlags(int fd, int flags) override;
  int GetInodeFlags(int fd, int* flags) override;
  int SetInodeFlags(int fd, int flags) override;
  int Fchmod(int fd, mode_t mode) override;
  int Fchown(int fd, uid_t uid, gid_t gid) override;
  int Fsetxattr(int fd, const char* name, const void* value, size_t size) override;
  int Futimens(int fd, const struct timespec times[2]) override;
  int ReadDir(int fd, std::vector<DirEntry>* out) override;
  int MkdirAt(int dir, const char* path, mode_t mode) override;
  int UnlinkAt(int dir, const char* path, int flags) override;
  int RenameAt(int old_dir, const char* old_path, int new_dir, const char* new_path) override;
  int LinkAt(int old_dir, const char* old_path, int new_dir, const char* new_path,
             int flags) override;
  int SymlinkAt(const char* target, int dir, const char* path) override;
  int MknodAt(int dir, const char* path, mode_t mode, dev_t dev) override;
  int StatAt(int dir, const char* path, struct stat* st, int flags) override;
  int ChmodAt(int dir, const char* path, mode_t mode) override;
  int ChownAt(int dir, const char* path, uid_t uid, gid_t gid, int flags) override;
  int UtimensAt(int dir, const char* path, const struct timespec times[2], int flags) override;
  int Lsetxattr(const char* path, const char* name, const void* value, size_t size) override;

 private:
  struct Rule {
    Fault fault;
    uint64_t seen = 0;
  };
  // 0 to go on, else -errno (after running a crash callback).
  int Check(FsOp op, const std::string& path, const std::string& path2 = std::string());
  std::string PathOfFd(int fd);
  std::string PathAt(int dir, const char* path);

  mutable std::mutex mu_;
  std::vector<Rule> rules_;              // GUARDED_BY(mu_)
  std::map<FsOp, uint64_t> counts_;      // GUARDED_BY(mu_)
  uint64_t fired_ = 0;                   // GUARDED_BY(mu_)
  std::map<int, std::string> fd_paths_;  // GUARDED_BY(mu_)
};

}  // namespace clawback
