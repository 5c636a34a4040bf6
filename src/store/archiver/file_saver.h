// FileSaver: the archiver's file saver (restic's archiver.FileSaver) — reads a file,
// cuts it into chunks (content-defined, restic's chunker), stores each chunk once as a data
// blob and records the blob ids in the file's node; or, for a file unchanged since the
// parent snapshot, keeps the parent's content list without opening it. Also the counters
// every part of the archiver adds to (ArchiveCounters).
//
// Errors: a file that cannot be opened or read gives a warning-class Status (IOError,
// NotFound, PermissionDenied) for the archiver to report and leave the file out; a
// repository error goes to the `fatal` callback too (the snapshot fails).
//
// Thread-safety: every method may run on many pool threads at once (on different nodes);
// the counters are atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/repository.h"
#include "store/tree.h"

namespace clawback::store {

struct ArchiveCounters {
  std::atomic<uint64_t> files{0}, dirs{0}, bytes{0}, bytes_read{0}, bytes_added{0}, errors{0};
  std::atomic<uint64_t> files_new{0}, files_changed{0}, files_unmodified{0};
  std::atomic<uint64_t> dirs_new{0}, dirs_changed{0}, dirs_unmodified{0};
  std::atomic<uint64_t> data_blobs{0}, tree_blobs{0}, data_added{0}, data_added_stored{0};
};

class FileSaver {
 public:
  // `counters` (not owned) outlives the saver; `no_parent`: never reuse a parent's content.
  FileSaver(Repository* repo, ArchiveCounters* counters, bool no_parent,
            std::function<void(const Status&)> fatal);

  // When `node` has the same metadata as `pnode` (NodeUnchanged) and every blob of the
  // parent's content is still in the repository: takes the parent's content list, counts
  // the file as unmodified and returns true (cheap: no file is opened).
  bool ReuseParentContent(Node* node, const Node* pnode);

  // Reads, chunks and stores the file into node->content and node->size; the file is
  // opened relative to `dirfd` by `name` (when dirfd >= 0) or by `path` (which ends with
  // `name`). `pnode`: its node in the parent snapshot (counted as changed), or null (new).
  Status StoreFile(const std::string& path, int dirfd, std::string_view name, Node* node,
                   const Node* pnode);

  // Stores one chunk whose id is known and appends the id to `content`.
  Status SaveChunk(std::string_view chunk, const Id& id, std::vector<Id>* content);

  // Records a file read whole: its content list and size, and the counters.
  void FileDone(Node* node, const Node* pnode, std::vector<Id> content, uint64_t size);

  // Reads a whole file of at most Chunker::kMinSize bytes (a single chunk) into *out;
  // false when it is larger (it grew since the walk saw it).
  static Result<bool> ReadSmall(const std::string& path, int dirfd, std::string_view name,
                                std::string* out);

  // Opens a file to read (O_NOATIME where allowed, never following a symlink).
  static Result<int> OpenFile(const std::string& path, int dirfd, std::string_view name);

 private:
  Repository* repo_;
  ArchiveCounters* c_;
  const bool no_parent_;
  std::function<void(const Status&)> fatal_;
};

}  // namespace clawback::store
