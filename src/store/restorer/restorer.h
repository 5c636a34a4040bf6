// Restorer: `clawback restore SNAP --target DIR` — recreates a snapshot's tree under DIR
// (the snapshot's absolute paths appear below DIR, as with restic).
//
// What is restored: file contents, directories, symlinks, hard links (files of one
// snapshot sharing inode and device id with links > 1 become hard links again), fifos and
// device nodes; modes, mtimes/atimes with nanoseconds (symlinks too), extended attributes,
// and owners when running as root. Directory metadata is applied after their contents.
//
// --include selects paths inside the snapshot: "/srv/app" (with everything below it),
// "srv/app" (same), or glob patterns as in exclude.h ("*.conf", "/srv/**/config").
// Parent directories of selected entries are created with their stored metadata.
//
// --verify re-reads every restored file and checks each content blob's SHA-256.
//
// Pipeline: the calling thread walks the trees and makes every entry itself, directory by
// directory (its subdirectories, then its files, links and special files in name order,
// then the subdirectories' contents), through descriptors of the directories (*at calls; a
// symlink standing where a directory is restored is not followed). The `threads` workers
// only fetch, decrypt, decompress and write contents into files the walker created and
// hands them open (small files in batches), then apply the files' metadata. On ext4 a
// creation holds the directory's lock while the inode allocator runs — on a file system
// without a journal that skips every recently deleted inode of the group — so workers
// creating files in one directory at once spun on that lock (issue 12, item 11). While
// restoring, directories being filled carry ext4's "top directory" flag (chattr +T, taken
// off again at the end), so their subdirectories spread over the flex groups and files do
// not land in a group full of just-deleted inodes, each of which the allocator would skip.
// Existing files at the target are replaced.
//
// Failures: a file whose contents cannot all be written (a write fails, e.g. ENOSPC or EIO,
// a blob cannot be loaded, or closing it reports a write error) is removed again, and so
// are hard links made to it; the error ("write /t/x: No space left on device (partial file
// removed)") goes to RestoreSummary::errors and the restore goes on. A failed restore thus
// leaves no file that looks restored but is not. Files are written in place (as restic's
// restorer does), not to a temporary name: a rename per file would cost a directory
// operation per file on the workers, the contention issue 12 removed. If the process dies
// (kill -9, power loss), files being written at that moment may stay partial; their
// metadata is applied only after their contents, so such a file still has mode 0600 and
// the time of the restore as its mtime. A metadata failure (chmod, xattr, times) leaves
// the complete file and reports the error.
//
// Thread-safety: Run() once; Progress() from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "store/repository.h"

namespace clawback::store {

struct RestoreOptions {
  std::string target;                 // created when missing
  std::vector<std::string> includes;  // empty: everything
  bool verify = false;
  int threads = 0;                    // 0: number of cores
  bool chown = false;                 // restore owners (the CLI sets it when root)
  FileSystem* fs = nullptr;           // every file-system call; null: FileSystem::Default()
  // Tests only: called on the thread about to make a directory entry below the target
  // (mkdir, open with O_CREAT, symlink, link, mknod), with the entry's path, just before.
  std::function<void(const std::string& path)> on_create_for_test;
};

struct RestoreProgress {
  uint64_t files = 0, dirs = 0, others = 0;
  uint64_t bytes = 0;        // file bytes written
  uint64_t total_bytes = 0;  // of the selected files, known after the walk
  bool walk_done = false;
};

struct RestoreSummary {
  uint64_t files = 0, dirs = 0, symlinks = 0, hardlinks = 0, others = 0;
  uint64_t bytes = 0;
  uint64_t verified_files = 0;
  std::vector<std::string> errors;  // per-entry failures (restore continues past them)
  double seconds = 0;
};

class Restorer {
 public:
  Restorer(Repository* repo, Id tree, RestoreOptions options);
  ~Restorer();
  Restorer(const Restorer&) = delete;
  Restorer& operator=(const Restorer&) = delete;

  // NotFound/Corruption when a tree can't be loaded; per-file errors are collected in
  // RestoreSummary::errors (the CLI fails the command when there are any).
  Result<RestoreSummary> Run();
  RestoreProgress Progress() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace clawback::store
