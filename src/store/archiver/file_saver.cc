#include "store/archiver/file_saver.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "store/archiver/fs_node.h"
#include "store/chunker/chunker.h"

namespace clawback::store {
namespace {

constexpr size_t kReadSize = 1 << 20;

}  // namespace

FileSaver::FileSaver(Repository* repo, ArchiveCounters* counters, bool no_parent,
                     std::function<void(const Status&)> fatal)
    : repo_(repo), c_(counters), no_parent_(no_parent), fatal_(std::move(fatal)) {}

// Reads, chunks and stores a file's content into node->content. A read error is
// returned as a warning-class status (IOError/NotFound/PermissionDenied); repository
// errors become fatal.
// An unchanged file (same metadata as in the parent, every blob still indexed) keeps the
// parent's content list without being opened. Cheap enough to run on the walker: most
// files of a re-snapshot never become a pool task (a task hand-off costs more than this).
bool FileSaver::ReuseParentContent(Node* node, const Node* pnode) {
  if (pnode == nullptr || no_parent_ || !NodeUnchanged(*pnode, *node)) return false;
  for (const auto& id : pnode->content) {
    if (!repo_->HasBlob(BlobType::kData, id)) return false;
  }
  node->content = pnode->content;
  c_->bytes += node->size;
  c_->files_unmodified++;
  c_->files++;
  return true;
}

// Opens a file to read: relative to `dirfd` (its directory, or -1) by `name`, which spares
// the kernel a walk of the whole path per file, else by `path` (which ends with `name`).
Result<int> FileSaver::OpenFile(const std::string& path, int dirfd, std::string_view name) {
  const char* at = dirfd >= 0 ? name.data() : path.c_str();  // name ends the NUL-terminated path
  const int base = dirfd >= 0 ? dirfd : AT_FDCWD;
  int fd = openat(base, at, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = openat(base, at, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  return fd;
}

// Stores one chunk whose id is known and appends the id to `content`.
Status FileSaver::SaveChunk(std::string_view chunk, const Id& id, std::vector<Id>* content) {
  auto r = repo_->SaveBlob(BlobType::kData, chunk, &id);
  if (!r.ok()) {
    fatal_(r.status());
    return r.status();
  }
  if (!r->known) {
    c_->data_blobs++;
    c_->data_added += chunk.size();
    c_->data_added_stored += r->stored_size;
    c_->bytes_added += r->stored_size;
  }
  content->push_back(id);
  return Status::Ok();
}

// Records a file read whole: its content list and size, and the counters.
void FileSaver::FileDone(Node* node, const Node* pnode, std::vector<Id> content, uint64_t size) {
  node->content = std::move(content);
  node->size = size;
  if (pnode != nullptr) {
    c_->files_changed++;
  } else {
    c_->files_new++;
  }
  c_->files++;
}

// Reads, chunks and stores a file's content into node->content; callers first try
// ReuseParentContent (an unchanged file is not read). A read error is returned as a
// warning-class status (IOError/NotFound/PermissionDenied); repository errors become fatal.
Status FileSaver::StoreFile(const std::string& path, int dirfd, std::string_view name, Node* node,
                            const Node* pnode) {
  ASSIGN_OR_RETURN(int fd, OpenFile(path, dirfd, name));
  if (node->size >= kReadSize) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  thread_local std::string buf;
  if (buf.size() != Chunker::kMaxSize + kReadSize) buf.resize(Chunker::kMaxSize + kReadSize);
  Chunker chunker(repo_->config().chunker_polynomial);
  size_t begin = 0;  // start of the current chunk in buf
  size_t len = 0;    // bytes in buf
  size_t scan = 0;   // bytes of buf the chunker has consumed
  uint64_t total = 0;
  std::vector<Id> content;
  Status st;
  // A cut chunk waits in buf for the next one, and the two are hashed together
  // (Sha256Pair: ~1.7x the hashing throughput of one at a time).
  bool holding = false;
  size_t held_begin = 0, held_len = 0;
  auto flush_held = [&]() -> Status {
    if (!holding) return Status::Ok();
    holding = false;
    std::string_view chunk(buf.data() + held_begin, held_len);
    return SaveChunk(chunk, Id::Hash(chunk), &content);
  };
  auto emit = [&](size_t n) -> Status {
    if (!holding) {
      holding = true;
      held_begin = begin;
      held_len = n;
      return Status::Ok();
    }
    holding = false;
    std::string_view first(buf.data() + held_begin, held_len), second(buf.data() + begin, n);
    Id a, b;
    Id::HashPair(first, second, &a, &b);
    RETURN_IF_ERROR(SaveChunk(first, a, &content));
    return SaveChunk(second, b, &content);
  };
  bool eof = false;
  while (!eof) {
    // The unfinished chunk (< kMaxSize) moves to the front only when a full read no longer
    // fits behind it, not after every cut: ~8x fewer bytes moved. A held chunk moves with
    // it when both fit, else it is stored alone first.
    if (buf.size() - len < kReadSize) {
      if (holding && len - held_begin + kReadSize > buf.size()) {
        st = flush_held();
        if (!st.ok()) break;
      }
      const size_t keep = holding ? held_begin : begin;
      if (keep > 0) {
        std::memmove(buf.data(), buf.data() + keep, len - keep);
        len -= keep;
        scan -= keep;
        begin -= keep;
        if (holding) held_begin -= keep;
      }
    }
    ssize_t n = read(fd, buf.data() + len, std::min(kReadSize, buf.size() - len));
    if (n < 0) {
      if (errno == EINTR) continue;
      st = ErrnoStatus("read " + path, errno);
      break;
    }
    if (n == 0) {
      eof = true;
    } else {
      len += static_cast<size_t>(n);
      total += static_cast<uint64_t>(n);
      c_->bytes += static_cast<uint64_t>(n);
      c_->bytes_read += static_cast<uint64_t>(n);
    }
    while (scan < len) {
      bool cut = false;
      scan += chunker.Next(reinterpret_cast<const uint8_t*>(buf.data()) + scan, len - scan, &cut);
      if (!cut) break;
      st = emit(scan - begin);
      if (!st.ok()) break;
      begin = scan;
    }
    if (!st.ok()) break;
    if (eof && len > begin) st = emit(len - begin);
    if (eof && st.ok()) st = flush_held();
  }
  close(fd);
  if (!st.ok()) return st;
  FileDone(node, pnode, std::move(content), total);
  return Status::Ok();
}

// Reads a whole file of at most Chunker::kMinSize bytes (a single chunk) into *out;
// false when it is larger (it grew since the walk saw it).
Result<bool> FileSaver::ReadSmall(const std::string& path, int dirfd, std::string_view name,
                                  std::string* out) {
  ASSIGN_OR_RETURN(int fd, OpenFile(path, dirfd, name));
  out->clear();
  char chunk[16 << 10];
  Status st;
  bool small = true;
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      st = ErrnoStatus("read " + path, errno);
      break;
    }
    if (n == 0) break;
    if (out->size() + static_cast<size_t>(n) > Chunker::kMinSize) {
      small = false;
      break;
    }
    out->append(chunk, static_cast<size_t>(n));
  }
  close(fd);
  if (!st.ok()) return st;
  return small;
}

}  // namespace clawback::store
