// Archiver: `clawback snapshot` — stores files and directories as a new snapshot.
//
//   Archiver a(repo, options);           // REQUIRES: repo->LoadIndex() done
//   ASSIGN_OR_RETURN(ArchiveSummary s, a.Run());
//
// Shape: the snapshot's root tree mirrors the absolute paths, one directory node per path
// component with that directory's real metadata (as restic does), so restic and clawback
// snapshots of the same paths look alike (target_tree.h). Each directory's tree blob is
// sorted, encoded as restic does and stored once (tree_saver.h).
//
// Change detection: the parent snapshot (given, or the newest one with the same host and
// paths) is walked alongside; a file whose type, size, mtime, ctime and inode match the
// parent's node, and whose blobs are all in the index, keeps its content list without being
// read. Everything else is read, cut by the repository's Rabin chunker, hashed and handed to
// Repository::SaveBlob (which deduplicates, compresses, encrypts and packs).
//
// Pipeline: the calling thread walks directories (lstat, excludes, parent lookup); file
// contents are read, chunked, hashed, compressed and encrypted by `threads` workers
// (default: one per core), small files in batches. The walker never waits for a directory:
// the last of a directory's files or subdirectories to finish saves its tree, and the
// walker helps with queued files only when the queue is full or the walk is over. Memory is
// bounded: at most ~9 MiB of file buffer per worker, a bounded queue of pending files, and
// the node lists of the directories not finished yet.
//
// Order of writes (spec §14): packs, then index (Repository::Flush), then the snapshot.
// Unreadable files are skipped with a warning; the snapshot is still written.
//
// Thread-safety: Run() once; Progress() may be called from any thread meanwhile.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/archiver/exclude.h"
#include "store/archiver/target_tree.h"
#include "store/repository.h"

namespace clawback::store {

struct ArchiveOptions {
  std::vector<std::string> paths;  // files or directories; made absolute
  std::vector<std::string> tags;
  std::string hostname;            // empty: this machine's name
  ExcludeSet excludes;             // matched against the absolute path
  bool ignore_files = true;        // honour .clawbackignore in every directory
  std::optional<Id> parent;        // empty: find the newest snapshot with same host and paths
  bool no_parent = false;          // read every file (no change detection)
  int threads = 0;                 // file workers; 0 = number of cores
  std::optional<Timestamp> time;   // the snapshot's time; empty = now
};

struct ArchiveProgress {
  uint64_t files = 0;        // files finished (new, changed or unmodified)
  uint64_t dirs = 0;
  uint64_t bytes = 0;        // bytes of finished and in-progress files
  uint64_t bytes_read = 0;   // bytes actually read from disk
  uint64_t bytes_added = 0;  // stored bytes added to the repository
  uint64_t errors = 0;
};

struct ArchiveSummary {
  Id snapshot_id;
  Snapshot snapshot;
  uint64_t files_new = 0, files_changed = 0, files_unmodified = 0;
  uint64_t dirs_new = 0, dirs_changed = 0, dirs_unmodified = 0;
  uint64_t data_blobs = 0, tree_blobs = 0;  // blobs added
  uint64_t data_added = 0;                  // plaintext bytes of added blobs
  uint64_t data_added_stored = 0;           // their stored (compressed, encrypted) size
  uint64_t total_files = 0, total_bytes = 0;
  double seconds = 0;
  std::vector<std::string> warnings;  // files that could not be read, and why
};

// AbsolutePath (how the given paths are made absolute) is declared in target_tree.h.

class Archiver {
 public:
  Archiver(Repository* repo, ArchiveOptions options);
  ~Archiver();
  Archiver(const Archiver&) = delete;
  Archiver& operator=(const Archiver&) = delete;

  Result<ArchiveSummary> Run();
  ArchiveProgress Progress() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace clawback::store
