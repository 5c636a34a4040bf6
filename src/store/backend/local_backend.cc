#include "store/backend/local_backend.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "store/backend/backend_util.h"
#include "store/backend/mem_backend.h"

namespace clawback::store {
namespace {

constexpr mode_t kDirMode = 0700;
constexpr mode_t kTempFileMode = 0600;
constexpr mode_t kFinalFileMode = 0400;

// Closes a file descriptor (of `fs`) on scope exit.
class Fd {
 public:
  Fd(FileSystem* fs, int fd) : fs_(fs), fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) (void)fs_->Close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }

 private:
  FileSystem* fs_;
  int fd_;
};

std::string DirName(const std::string& path) {
  auto pos = path.rfind('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

// mkdir -p with mode 0700 for every directory it creates.
Status MakeDirs(FileSystem* fs, const std::string& path) {
  struct stat st;
  const int r = fs->Stat(path, &st);
  if (r == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return FailedPrecondition(path + " exists and is not a directory");
  }
  if (r != -ENOENT) return FsStatus("stat " + path, r);
  std::string parent = DirName(path);
  if (parent != path && parent != "." && parent != "/") RETURN_IF_ERROR(MakeDirs(fs, parent));
  if (int m = fs->Mkdir(path, kDirMode); m < 0 && m != -EEXIST) return FsStatus("mkdir " + path, m);
  return Status::Ok();
}

// Whether `path` exists (access(F_OK)).
bool PathExists(FileSystem* fs, const std::string& path) {
  struct stat st;
  return fs->Stat(path, &st) == 0;
}

// The entries of directory `path`; -errno (-ENOENT when it is missing).
int ReadDirAt(FileSystem* fs, const std::string& path, std::vector<DirEntry>* out) {
  const int fd = fs->Open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fd;
  const int r = fs->ReadDir(fd, out);
  (void)fs->Close(fd);
  return r;
}

Status SyncDir(FileSystem* fs, const std::string& dir) {
  const int fd = fs->Open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return FsStatus("open directory " + dir, fd);
  Fd guard(fs, fd);
  // Some file systems refuse fsync on a directory (EINVAL); the rename is done anyway.
  if (int r = fs->Fsync(fd); r < 0 && r != -EINVAL && r != -ENOTSUP) {
    return FsStatus("fsync directory " + dir, r);
  }
  return Status::Ok();
}

std::string RandomSuffix() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // Fall back to something unique within this process; uniqueness, not secrecy, matters.
    static std::atomic<uint64_t> counter{0};
    uint64_t v = (static_cast<uint64_t>(::getpid()) << 32) ^ counter.fetch_add(1);
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(v >> (8 * i));
  }
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char b : bytes) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

// Pack files of at least this size are written with O_DIRECT.
constexpr size_t kDirectWriteMin = size_t{1} << 20;
constexpr size_t kDirectAlign = 4096;  // covers 512- and 4096-byte logical blocks
constexpr size_t kDirectPiece = size_t{1} << 20;

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};

// Writes `data` to the empty file `fd` with O_DIRECT, through an aligned per-thread bounce
// buffer, the last piece padded with zeros and the file then cut to size. The data goes
// from this buffer to the device without a page-cache copy: buffered writes of a first
// snapshot's packs cost ~1 CPU-s per GiB here (in a VM, page-cache pages the guest had not
// touched yet are expensive), O_DIRECT a few percent of that. Packs are not re-read by the
// writer. *written is false, and nothing is written, when the file system refuses O_DIRECT
// (tmpfs) or the first aligned write (EINVAL): the caller then writes buffered.
Status WriteDirect(FileSystem* fs, int fd, std::string_view data, const std::string& path,
                   bool* written) {
  *written = false;
  const int flags = fs->GetStatusFlags(fd);
  if (flags < 0 || fs->SetStatusFlags(fd, flags | O_DIRECT) != 0) return Status::Ok();
  thread_local std::unique_ptr<char, FreeDeleter> bounce(
      static_cast<char*>(std::aligned_alloc(kDirectAlign, kDirectPiece)));
  if (bounce == nullptr) return Internal("out of memory for the O_DIRECT buffer");
  size_t off = 0;
  while (off < data.size()) {
    const size_t n = std::min(kDirectPiece, data.size() - off);
    const size_t padded = (n + kDirectAlign - 1) & ~(kDirectAlign - 1);
    std::memcpy(bounce.get(), data.data() + off, n);
    std::memset(bounce.get() + n, 0, padded - n);
    const int64_t w = fs->PWrite(fd, bounce.get(), padded, static_cast<int64_t>(off));
    if (w == -EINVAL && off == 0) {
      // Alignment the device does not accept: write buffered instead.
      return FsStatus("fcntl " + path, fs->SetStatusFlags(fd, flags));
    }
    if (w < 0) return FsStatus("write " + path, w);
    // A short O_DIRECT write (device full mid-piece) leaves the rest unaligned: say so.
    if (static_cast<size_t>(w) != padded) return IOError("short write of " + path);
    off += n;
  }
  RETURN_IF_ERROR(FsStatus("truncate " + path, fs->Ftruncate(fd, static_cast<int64_t>(data.size()))));
  *written = true;
  return Status::Ok();
}

// The last steps of every pack write: flush, read-only, close, and rename to the final
// name (never over an existing file), then fsync the directory. Unlinks the temporary on
// failure. Takes ownership of fd.
Status PublishTemp(FileSystem* fs, int fd, const std::string& tmp_path, const std::string& final_path) {
  auto fail = [&](Status s) {
    if (fd >= 0) (void)fs->Close(fd);
    (void)fs->Unlink(tmp_path);
    return s;
  };
  if (int r = fs->Fsync(fd); r < 0) return fail(FsStatus("fsync " + tmp_path, r));
  (void)fs->Fchmod(fd, kFinalFileMode);
  if (int r = fs->Close(std::exchange(fd, -1)); r < 0) return fail(FsStatus("close " + tmp_path, r));
  const std::string dir = DirName(final_path);
  struct stat st;
  const int l = fs->Lstat(final_path, &st);
  if (l == 0) return fail(AlreadyExists(final_path + " already exists"));
  if (l != -ENOENT && l != -ENOTDIR) return fail(FsStatus("stat " + final_path, l));
  if (!PathExists(fs, dir)) {
    if (Status s = MakeDirs(fs, dir); !s.ok()) return fail(s);
  }
  if (int r = fs->Rename(tmp_path, final_path); r < 0) {
    return fail(FsStatus("rename " + tmp_path + " to " + final_path, r));
  }
  return SyncDir(fs, dir);
}

}  // namespace

// A pack streamed to "data/tmp-<random>" (restic and List ignore files directly in data/)
// through 1 MiB staging buffers: each full one goes to the backend's I/O thread, which
// writes it with O_DIRECT where the file system allows it (see WriteDirect), plain writes
// otherwise, while the caller fills the next; Commit queues the rest (padded and then cut
// for O_DIRECT), waits for the pack's pieces, and publishes the file like Save does.
class LocalBackend::PendingPack : public PendingFile {
 public:
  PendingPack(LocalBackend* backend, std::string tmp_path, int fd, bool direct)
      : backend_(backend), tmp_path_(std::move(tmp_path)), fd_(fd), direct_requested_(direct),
        direct_(direct), staging_(backend->TakeStaging()) {}
  ~PendingPack() override {
    backend_->WaitWrites(this);
    if (fd_ >= 0) {
      (void)backend_->fs_->Close(fd_);
      (void)backend_->fs_->Unlink(tmp_path_);
    }
    backend_->ReturnStaging(staging_);
  }

  Status Append(std::string_view data) override {
    RETURN_IF_ERROR(error());
    if (staging_ == nullptr) return Fail(Internal("out of memory for a pack buffer"));
    while (!data.empty()) {
      const size_t n = std::min(kDirectPiece - staged_, data.size());
      std::memcpy(staging_ + staged_, data.data(), n);
      staged_ += n;
      data.remove_prefix(n);
      if (staged_ == kDirectPiece) RETURN_IF_ERROR(QueueStaged());
    }
    return Status::Ok();
  }

  Status Commit(const std::string& name) override {
    RETURN_IF_ERROR(error());
    if (Status s = ValidateName(FileType::kPack, name); !s.ok()) return Fail(s);
    const uint64_t size = written_ + staged_;
    if (staged_ > 0) RETURN_IF_ERROR(QueueStaged());
    backend_->WaitWrites(this);
    RETURN_IF_ERROR(error());
    if (direct_requested_) {
      if (int r = backend_->fs_->Ftruncate(fd_, static_cast<int64_t>(size)); r < 0) {
        return Fail(FsStatus("truncate " + tmp_path_, r));
      }
    }
    Status st = PublishTemp(backend_->fs_, std::exchange(fd_, -1), tmp_path_,
                            backend_->PathOf(FileType::kPack, name));
    if (!st.ok()) SetError(st);
    return st;
  }

  // I/O thread: writes one piece at `offset` (with O_DIRECT: `len` is a multiple of the
  // block size; the file is cut to its real size at Commit).
  void WritePiece(const char* buffer, size_t len, uint64_t offset) {
    FileSystem* fs = backend_->fs_;
    size_t done = 0;
    while (done < len) {
      const int64_t w = fs->PWrite(fd_, buffer + done, len - done, static_cast<int64_t>(offset + done));
      if (w == -EINVAL && direct_ && done == 0) {
        // Alignment the device does not accept: plain writes from here on (the zero padding
        // of a last piece is overwritten or cut off at Commit).
        const int flags = fs->GetStatusFlags(fd_);
        const int r = flags < 0 ? flags : fs->SetStatusFlags(fd_, flags & ~O_DIRECT);
        if (r < 0) {
          SetError(FsStatus("fcntl " + tmp_path_, r));
          return;
        }
        direct_ = false;
        continue;
      }
      if (w < 0) {
        SetError(FsStatus("write " + tmp_path_, w));
        return;
      }
      // A short O_DIRECT write would leave the rest unaligned.
      if (direct_ && static_cast<size_t>(w) != len - done) {
        SetError(IOError("short write of " + tmp_path_));
        return;
      }
      done += static_cast<size_t>(w);
    }
  }

  int queued = 0;  // pieces not written yet; GUARDED_BY(backend_->io_mu_)

 private:
  Status error() {
    std::lock_guard<std::mutex> lock(error_mu_);
    return error_;
  }
  // Keeps the first error: every later Append and Commit returns it.
  void SetError(const Status& s) {
    std::lock_guard<std::mutex> lock(error_mu_);
    if (error_.ok()) error_ = s;
  }
  Status Fail(Status s) {
    SetError(s);
    return s;
  }

  // Hands the staged bytes (with O_DIRECT: padded to the block) to the I/O thread and
  // starts a new staging buffer.
  Status QueueStaged() {
    size_t len = staged_;
    if (direct_requested_) {
      len = (staged_ + kDirectAlign - 1) & ~(kDirectAlign - 1);
      std::memset(staging_ + staged_, 0, len - staged_);
    }
    backend_->QueueWrite(this, std::exchange(staging_, nullptr), len, written_);
    written_ += staged_;
    staged_ = 0;
    staging_ = backend_->TakeStaging();
    if (staging_ == nullptr) return Fail(Internal("out of memory for a pack buffer"));
    return Status::Ok();
  }

  LocalBackend* backend_;
  std::string tmp_path_;
  int fd_;
  const bool direct_requested_;  // pieces are padded and the file cut at Commit
  bool direct_;                  // I/O thread only, once pieces are queued
  char* staging_;
  size_t staged_ = 0;
  uint64_t written_ = 0;  // bytes of the file before the staged ones
  std::mutex error_mu_;
  Status error_;  // GUARDED_BY(error_mu_)
};

char* LocalBackend::TakeStaging() {
  {
    std::lock_guard<std::mutex> lock(staging_mu_);
    if (!staging_free_.empty()) {
      char* p = staging_free_.back();
      staging_free_.pop_back();
      return p;
    }
  }
  return static_cast<char*>(std::aligned_alloc(kDirectAlign, kDirectPiece));
}

void LocalBackend::ReturnStaging(char* p) {
  if (p == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(staging_mu_);
    if (staging_free_.size() < 12) {
      staging_free_.push_back(p);
      return;
    }
  }
  std::free(p);
}

void LocalBackend::QueueWrite(PendingPack* pack, char* buffer, size_t len, uint64_t offset) {
  {
    std::unique_lock<std::mutex> lock(io_mu_);
    io_cv_.wait(lock, [this] { return io_queue_.size() < 8; });
    io_queue_.push_back(PieceWrite{pack, buffer, len, offset});
    ++pack->queued;
    if (!io_thread_.joinable()) io_thread_ = std::thread([this] { IoLoop(); });
  }
  io_cv_.notify_all();
}

void LocalBackend::WaitWrites(PendingPack* pack) {
  std::unique_lock<std::mutex> lock(io_mu_);
  io_cv_.wait(lock, [pack] { return pack->queued == 0; });
}

void LocalBackend::IoLoop() {
  std::unique_lock<std::mutex> lock(io_mu_);
  for (;;) {
    io_cv_.wait(lock, [this] { return io_stop_ || !io_queue_.empty(); });
    if (io_queue_.empty()) return;  // stopping, and drained
    PieceWrite piece = io_queue_.front();
    lock.unlock();
    piece.pack->WritePiece(piece.buffer, piece.len, piece.offset);
    ReturnStaging(piece.buffer);
    lock.lock();
    // Popped only now: the queue's length bounds the buffers in flight.
    io_queue_.pop_front();
    --piece.pack->queued;
    io_cv_.notify_all();
  }
}

LocalBackend::~LocalBackend() {
  {
    std::lock_guard<std::mutex> lock(io_mu_);
    io_stop_ = true;
  }
  io_cv_.notify_all();
  if (io_thread_.joinable()) io_thread_.join();
  for (char* p : staging_free_) std::free(p);
}

Result<std::unique_ptr<PendingFile>> LocalBackend::Begin(FileType t, size_t size_hint) {
  if (t != FileType::kPack) return Backend::Begin(t, size_hint);
  const std::string dir = root_ + "/" + std::string(FileTypeDir(FileType::kPack));
  if (!PathExists(fs_, dir)) RETURN_IF_ERROR(MakeDirs(fs_, dir));
  const std::string tmp_path = dir + "/tmp-" + RandomSuffix();
  const int fd = fs_->Open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kTempFileMode);
  if (fd < 0) return FsStatus("create " + tmp_path, fd);
  const int flags = fs_->GetStatusFlags(fd);
  const bool direct = flags >= 0 && fs_->SetStatusFlags(fd, flags | O_DIRECT) == 0;
  return std::unique_ptr<PendingFile>(new PendingPack(this, tmp_path, fd, direct));
}

Result<int64_t> LocalBackend::RemoveTemporaries() {
  int64_t removed = 0;
  // Removes the regular files of `dir` whose names `is_temp` accepts.
  auto sweep = [&](const std::string& dir, auto is_temp) -> Status {
    std::vector<DirEntry> entries;
    if (int r = ReadDirAt(fs_, dir, &entries); r < 0) {
      if (r == -ENOENT) return Status::Ok();
      return FsStatus("open directory " + dir, r);
    }
    bool any = false;
    for (const DirEntry& e : entries) {
      if (!is_temp(std::string_view(e.name))) continue;
      std::string path = dir + "/" + e.name;
      struct stat info;
      if (fs_->Lstat(path, &info) != 0 || !S_ISREG(info.st_mode)) continue;
      if (int r = fs_->Unlink(path); r < 0 && r != -ENOENT) return FsStatus("remove " + path, r);
      ++removed;
      any = true;
    }
    return any ? SyncDir(fs_, dir) : Status::Ok();
  };
  auto saved_temp = [](std::string_view n) { return n.find("-tmp-") != std::string_view::npos; };
  const std::string data = root_ + "/" + std::string(FileTypeDir(FileType::kPack));
  RETURN_IF_ERROR(sweep(data, [](std::string_view n) { return n.rfind("tmp-", 0) == 0; }));
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 256; ++i) {
    RETURN_IF_ERROR(sweep(data + "/" + kHex[i >> 4] + kHex[i & 15], saved_temp));
  }
  for (FileType t : {FileType::kIndex, FileType::kSnapshot, FileType::kKey}) {
    RETURN_IF_ERROR(sweep(root_ + "/" + std::string(FileTypeDir(t)), saved_temp));
  }
  RETURN_IF_ERROR(sweep(root_, [](std::string_view n) { return n.rfind("config-tmp-", 0) == 0; }));
  return removed;
}

LocalBackend::LocalBackend(std::string root, FileSystem* fs)
    : root_(std::move(root)), fs_(fs != nullptr ? fs : FileSystem::Default()) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string LocalBackend::PathOf(FileType t, const std::string& name) const {
  return root_ + "/" + ObjectPath(t, name.empty() && t == FileType::kConfig ? "config" : name);
}

Status LocalBackend::Create() {
  RETURN_IF_ERROR(MakeDirs(fs_, root_));
  for (FileType t :
       {FileType::kKey, FileType::kLock, FileType::kSnapshot, FileType::kIndex, FileType::kPack}) {
    RETURN_IF_ERROR(MakeDirs(fs_, root_ + "/" + std::string(FileTypeDir(t))));
  }
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 256; ++i) {
    std::string sub = root_ + "/data/" + kHex[i >> 4] + kHex[i & 15];
    if (int r = fs_->Mkdir(sub, kDirMode); r < 0 && r != -EEXIST) return FsStatus("mkdir " + sub, r);
  }
  return SyncDir(fs_, root_);
}

Result<bool> LocalBackend::Exists() {
  struct stat st;
  std::string path = root_ + "/config";
  const int r = fs_->Stat(path, &st);
  if (r == 0) return true;
  if (r == -ENOENT || r == -ENOTDIR) return false;
  return FsStatus("stat " + path, r);
}

Status LocalBackend::Save(FileType t, const std::string& name, std::string_view data) {
  RETURN_IF_ERROR(ValidateName(t, name));
  const std::string final_path = PathOf(t, name);
  const std::string dir = DirName(final_path);
  struct stat st;
  const int l = fs_->Lstat(final_path, &st);
  if (l == 0) return AlreadyExists(final_path + " already exists");
  if (l != -ENOENT && l != -ENOTDIR) return FsStatus("stat " + final_path, l);
  // restic's local backend also creates a missing data/xx directory on demand.
  if (!PathExists(fs_, dir)) RETURN_IF_ERROR(MakeDirs(fs_, dir));

  const std::string tmp_path = final_path + "-tmp-" + RandomSuffix();
  const int raw = fs_->Open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kTempFileMode);
  if (raw < 0) return FsStatus("create " + tmp_path, raw);
  Fd fd(fs_, raw);
  auto fail = [&](Status s) {
    (void)fs_->Close(fd.Release());
    (void)fs_->Unlink(tmp_path);
    return s;
  };
  bool written = false;
  if (t == FileType::kPack && data.size() >= kDirectWriteMin) {
    if (Status s = WriteDirect(fs_, fd.get(), data, tmp_path, &written); !s.ok()) return fail(s);
  }
  if (!written) {
    if (Status s = FsStatus("write " + tmp_path, fs_->WriteAll(fd.get(), data)); !s.ok()) return fail(s);
  }
  // Lock files are not fsynced: a lock matters only while its writer lives, other processes
  // see it through the rename, and one lost in a power failure is what `unlock` would
  // remove anyway. Saves two disk flushes per command (four with the refresh).
  const bool durable = t != FileType::kLock;
  if (durable) {
    if (int r = fs_->Fsync(fd.get()); r < 0) return fail(FsStatus("fsync " + tmp_path, r));
  }
  // Read-only like restic's files; ignored where the file system refuses modes.
  (void)fs_->Fchmod(fd.get(), kFinalFileMode);
  if (int r = fs_->Close(fd.Release()); r < 0) {
    (void)fs_->Unlink(tmp_path);
    return FsStatus("close " + tmp_path, r);
  }
  if (t == FileType::kConfig || t == FileType::kKey) {
    // Never replace an existing config or key, even in a race: link() fails on EEXIST.
    if (int r = fs_->Link(tmp_path, final_path); r < 0) {
      if (r == -EEXIST) {
        (void)fs_->Unlink(tmp_path);
        return AlreadyExists(final_path + " already exists");
      }
      if (r != -EPERM && r != -ENOTSUP && r != -EXDEV) {
        (void)fs_->Unlink(tmp_path);
        return FsStatus("link " + final_path, r);
      }
      // File system without hard links: fall back to rename below (the temporary stays
      // for it: before the seam it was unlinked here, so that rename could only fail).
    } else {
      (void)fs_->Unlink(tmp_path);
      return SyncDir(fs_, dir);
    }
  }
  if (int r = fs_->Rename(tmp_path, final_path); r < 0) {
    (void)fs_->Unlink(tmp_path);
    return FsStatus("rename " + tmp_path + " to " + final_path, r);
  }
  return durable ? SyncDir(fs_, dir) : Status::Ok();
}

Result<std::string> LocalBackend::Load(FileType t, const std::string& name, int64_t offset,
                                       int64_t length) {
  std::string out;
  RETURN_IF_ERROR(LoadInto(t, name, offset, length, &out));
  return out;
}

Status LocalBackend::LoadInto(FileType t, const std::string& name, int64_t offset, int64_t length,
                              std::string* out) {
  RETURN_IF_ERROR(ValidateName(t, name));
  const std::string path = PathOf(t, name);
  const int raw = fs_->Open(path, O_RDONLY | O_CLOEXEC);
  if (raw < 0) return FsStatus("open " + path, raw);
  Fd fd(fs_, raw);
  struct stat st;
  RETURN_IF_ERROR(FsStatus("stat " + path, fs_->Fstat(fd.get(), &st)));
  ASSIGN_OR_RETURN(int64_t n, CheckRange(path, static_cast<int64_t>(st.st_size), offset, length));
  out->resize(static_cast<size_t>(n));  // keeps the capacity of a reused buffer
  size_t done = 0;
  while (done < out->size()) {
    const int64_t r = fs_->PRead(fd.get(), out->data() + done, out->size() - done,
                                 offset + static_cast<int64_t>(done));
    if (r < 0) return FsStatus("read " + path, r);
    if (r == 0) {
      return Corruption("short read of " + path + ": file ended after " +
                        std::to_string(offset + static_cast<int64_t>(done)) + " bytes");
    }
    done += static_cast<size_t>(r);
  }
  return Status::Ok();
}

Result<FileInfo> LocalBackend::Stat(FileType t, const std::string& name) {
  RETURN_IF_ERROR(ValidateName(t, name));
  const std::string path = PathOf(t, name);
  struct stat st;
  RETURN_IF_ERROR(FsStatus("stat " + path, fs_->Stat(path, &st)));
  return FileInfo{t == FileType::kConfig ? "config" : name, static_cast<int64_t>(st.st_size)};
}

Status LocalBackend::Remove(FileType t, const std::string& name) {
  RETURN_IF_ERROR(ValidateName(t, name));
  const std::string path = PathOf(t, name);
  return FsStatus("remove " + path, fs_->Unlink(path));
}

Status LocalBackend::ListDir(const std::string& dir, FileType t, std::vector<FileInfo>* out) const {
  const int dfd = fs_->Open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd == -ENOENT) return Status::Ok();  // not created yet: nothing stored
  if (dfd < 0) return FsStatus("open directory " + dir, dfd);
  Fd guard(fs_, dfd);
  std::vector<DirEntry> entries;
  RETURN_IF_ERROR(FsStatus("read directory " + dir, fs_->ReadDir(dfd, &entries)));
  for (const DirEntry& e : entries) {
    std::string_view name(e.name);
    if (!IsHexId(name)) continue;  // temporaries, stray files
    struct stat st;
    if (int r = fs_->StatAt(dfd, e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW); r < 0) {
      if (r == -ENOENT) continue;  // removed while listing
      return FsStatus("stat " + dir + "/" + e.name, r);
    }
    if (!S_ISREG(st.st_mode)) continue;
    if (t == FileType::kPack && dir.substr(dir.size() - 2) != name.substr(0, 2)) continue;
    out->push_back({e.name, static_cast<int64_t>(st.st_size)});
  }
  return Status::Ok();
}

Result<std::vector<FileInfo>> LocalBackend::List(FileType t) {
  std::vector<FileInfo> out;
  if (t == FileType::kConfig) {
    struct stat st;
    std::string path = root_ + "/config";
    const int r = fs_->Stat(path, &st);
    if (r == 0) {
      out.push_back({"config", static_cast<int64_t>(st.st_size)});
    } else if (r != -ENOENT) {
      return FsStatus("stat " + path, r);
    }
    return out;
  }
  const std::string dir = root_ + "/" + std::string(FileTypeDir(t));
  if (t != FileType::kPack) {
    RETURN_IF_ERROR(ListDir(dir, t, &out));
    return out;
  }
  std::vector<DirEntry> entries;
  if (int r = ReadDirAt(fs_, dir, &entries); r < 0) {
    if (r == -ENOENT) return out;
    return FsStatus("open directory " + dir, r);
  }
  std::vector<std::string> subdirs;
  for (const DirEntry& e : entries) {
    if (e.name.size() == 2 && IsHexId(e.name + std::string(62, '0'))) subdirs.push_back(e.name);
  }
  std::sort(subdirs.begin(), subdirs.end());  // a stable order (readdir's is none)
  for (const std::string& sub : subdirs) RETURN_IF_ERROR(ListDir(dir + "/" + sub, t, &out));
  return out;
}

}  // namespace clawback::store
