#include "store/archiver/archiver.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <condition_variable>
#include <unordered_map>

#include "store/archiver/file_saver.h"
#include "store/archiver/fs_node.h"
#include "store/archiver/parent_prefetch.h"
#include "store/archiver/target_tree.h"
#include "store/archiver/tree_saver.h"
#include "store/archiver/work_pool.h"
#include "store/lock/lock_file.h"

namespace clawback::store {
namespace {

// A .clawbackignore's rules and the directory they apply below.
struct IgnoreScope {
  ExcludeSet rules;
  std::string base;  // absolute directory path, no trailing slash (except "/")
};

std::string Join(const std::string& dir, std::string_view name) {
  std::string p = dir;
  if (p.empty() || p.back() != '/') p.push_back('/');
  p.append(name);
  return p;
}

// Path of `path` below `base` ("a/b"), or `path` without its leading slash for base "/".
std::string_view RelativeTo(std::string_view path, std::string_view base) {
  if (base == "/") return path.substr(1);
  if (path.size() > base.size() + 1) return path.substr(base.size() + 1);
  return std::string_view();
}

// The names in directory `path` (open as `fd`, or -1), sorted.
Status ReadDirNames(const std::string& path, int fd, std::vector<std::string>* names) {
  DIR* d = nullptr;
  if (fd >= 0) {
    int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);  // closedir closes it; fd stays open
    if (own < 0) return ErrnoStatus("opendir " + path, errno);
    d = fdopendir(own);
    if (d == nullptr) close(own);
  } else {
    d = opendir(path.c_str());
  }
  if (d == nullptr) return ErrnoStatus("opendir " + path, errno);
  errno = 0;
  while (struct dirent* e = readdir(d)) {
    std::string_view n(e->d_name);
    if (n != "." && n != "..") names->emplace_back(n);
  }
  int err = errno;
  closedir(d);
  if (err != 0) return ErrnoStatus("readdir " + path, err);
  std::sort(names->begin(), names->end());  // char_traits<char> compares as unsigned bytes
  return Status::Ok();
}

Result<std::string> ReadSmallFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return ErrnoStatus("read " + path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1 << 20)) {
      close(fd);
      return TooLarge(path + " is larger than 1 MiB");
    }
  }
  close(fd);
  return out;
}

}  // namespace

// The counters (ArchiveCounters, file_saver.h) are members of Impl itself.
struct Archiver::Impl : ArchiveCounters, TargetTree::Visitor {
  Repository* repo;
  ArchiveOptions opt;
  OwnerNames names;
  std::unique_ptr<WorkPool> pool;
  std::vector<IgnoreScope> scopes;  // walker thread only
  // Reads, chunks and stores files' contents (file_saver.h).
  std::unique_ptr<FileSaver> saver;
  // Saves directories' trees (tree_saver.h).
  std::unique_ptr<TreeSaver> trees;

  std::mutex mu;  // guards warnings and fatal
  std::vector<std::string> warnings;
  Status fatal;

  void Warn(const std::string& w) {
    errors++;
    std::lock_guard<std::mutex> l(mu);
    warnings.push_back(w);
  }
  void Fatal(const Status& st) {
    std::lock_guard<std::mutex> l(mu);
    if (fatal.ok()) fatal = st;
  }
  Status FatalStatus() {
    std::lock_guard<std::mutex> l(mu);
    return fatal;
  }

  bool IsExcluded(const std::string& path, bool is_dir) const {
    if (opt.excludes.Excluded(RelativeTo(path, "/"), is_dir)) return true;
    for (const auto& s : scopes) {
      if (s.rules.Excluded(RelativeTo(path, s.base), is_dir)) return true;
    }
    return false;
  }

  // The parent snapshot's trees, loaded ahead of the walker (parent_prefetch.h).
  std::unique_ptr<ParentPrefetch> prefetch;
  using PrefetchMap = ParentPrefetch::Map;
  using PrefetchedTree = ParentPrefetch::Slot;

  // The end of a top directory's walk, for ArchiveDir to wait on.
  struct Completion {
    std::mutex mu;
    std::condition_variable cv;
    bool finished = false;
    Status status;
    Node node;
  };

  // A directory being archived. The walker lists it, queues its files as pool tasks and
  // walks its subdirectories, without waiting for any of them: whichever of its children
  // finishes last (a file task, a subdirectory, or the walker's listing) saves its tree and
  // reports to the parent directory. So the walker goes on to the next directory while the
  // workers finish this one's files, and no core idles behind a directory's last big file.
  struct DirJob {
    DirJob* parent = nullptr;     // nullptr: the top directory of a walk
    Completion* done = nullptr;   // top directory only
    size_t slot = 0;              // this directory's index in parent->nodes
    Node node;                    // its own node; the subtree is set when it is done
    const Node* pnode = nullptr;  // its node in the parent snapshot (in parent->ptree)
    std::optional<Tree> ptree;    // its tree in the parent snapshot
    PrefetchMap sub_prefetch;     // destroyed before ptree (declared after it)
    std::vector<Node> nodes;      // one per directory entry; kept where keep[i] != 0
    std::unique_ptr<uint8_t[]> keep;
    std::atomic<size_t> pending{1};  // unfinished children, plus one while the walker lists
    int fd = -1;  // the directory, open while its files are read (-1: use full paths)
  };

  // Directories kept open for relative lookups at once (each until its files are read);
  // beyond this, full paths.
  static constexpr int kMaxOpenDirs = 256;
  std::atomic<int> open_dirs{0};

  // Drops one of `d`'s pending references; the last one saves d's tree, hands d's node to
  // its parent (or its Completion) and frees d, and so on up the tree.
  void Release(DirJob* d) {
    while (d != nullptr && d->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      Status st = FatalStatus();
      if (st.ok()) {
        st = trees->SaveDir(&d->node, d->pnode, &d->nodes, d->keep.get());
        if (!st.ok()) Fatal(st);
      }
      DirJob* parent = d->parent;
      if (parent != nullptr) {
        if (st.ok()) parent->nodes[d->slot] = std::move(d->node);
      } else {
        // The waiter may free the Completion as soon as it sees `finished`: nothing touches
        // it after the lock is released.
        std::lock_guard<std::mutex> l(d->done->mu);
        d->done->status = st;
        if (st.ok()) d->done->node = std::move(d->node);
        d->done->finished = true;
        d->done->cv.notify_all();
      }
      if (d->fd >= 0) {
        close(d->fd);
        open_dirs.fetch_sub(1, std::memory_order_relaxed);
      }
      delete d;
      d = parent;
    }
  }

  // Files up to this size are read in batches: one task per file was a wake-up and a
  // hand-off per 4 KiB file, and ~20,000 small files kept the cores ~75 % busy.
  static constexpr uint64_t kSmallFile = 128 << 10;
  static constexpr size_t kBatchFiles = 32;
  static constexpr uint64_t kBatchBytes = 1 << 20;
  struct FileTask {
    std::string path;  // ends with the file's name (name_len bytes)
    size_t name_len;
    size_t index;
    const Node* pnode;
  };

  // A file that could not be read is left out of its directory's tree with a warning.
  void FileFailed(DirJob* d, const FileTask& f, const Status& s) {
    d->keep[f.index] = 0;
    if (FatalStatus().ok()) Warn(s.message());
  }

  // Stores small files (each one chunk): read whole, their ids hashed two at a time.
  void StoreSmallFiles(DirJob* d, const std::vector<FileTask>& files) {
    thread_local std::vector<std::string> contents;
    if (contents.size() < files.size()) contents.resize(files.size());
    std::vector<size_t> loaded;  // indexes into files
    for (size_t i = 0; i < files.size() && FatalStatus().ok(); ++i) {
      const FileTask& f = files[i];
      std::string_view name(f.path.data() + f.path.size() - f.name_len, f.name_len);
      auto small = FileSaver::ReadSmall(f.path, d->fd, name, &contents[i]);
      if (!small.ok()) {
        FileFailed(d, f, small.status());
      } else if (!*small) {
        Status s = saver->StoreFile(f.path, d->fd, name, &d->nodes[f.index], f.pnode);  // it grew
        if (!s.ok()) FileFailed(d, f, s);
      } else {
        bytes += contents[i].size();
        bytes_read += contents[i].size();
        loaded.push_back(i);
      }
    }
    for (size_t k = 0; k < loaded.size() && FatalStatus().ok(); k += 2) {
      Id ids[2];
      const std::string& a = contents[loaded[k]];
      if (k + 1 < loaded.size()) {
        Id::HashPair(a, contents[loaded[k + 1]], &ids[0], &ids[1]);
      } else {
        ids[0] = Id::Hash(a);
      }
      for (size_t j = k; j < std::min(k + 2, loaded.size()); ++j) {
        const FileTask& f = files[loaded[j]];
        const std::string& data = contents[loaded[j]];
        std::vector<Id> content;
        if (!data.empty() && !saver->SaveChunk(data, ids[j - k], &content).ok()) return;  // fatal
        saver->FileDone(&d->nodes[f.index], f.pnode, std::move(content), data.size());
      }
    }
    for (size_t i = 0; i < files.size(); ++i) {
      if (contents[i].capacity() > (size_t{1} << 20)) std::string().swap(contents[i]);
    }
  }

  // Queues reading `files` of directory `d` as one pool task (`small`: files of at most
  // kSmallFile bytes when the walk saw them).
  void SubmitFiles(DirJob* d, std::vector<FileTask> files, bool small) {
    d->pending.fetch_add(1, std::memory_order_relaxed);
    pool->Submit([this, d, small, files = std::move(files)] {
      if (small) {
        StoreSmallFiles(d, files);
      } else {
        for (const FileTask& f : files) {
          if (!FatalStatus().ok()) break;
          std::string_view name(f.path.data() + f.path.size() - f.name_len, f.name_len);
          Status s = saver->StoreFile(f.path, d->fd, name, &d->nodes[f.index], f.pnode);
          if (!s.ok()) FileFailed(d, f, s);
        }
      }
      Release(d);
    });
  }

  // Lists directory `d` at `path` (its node and pnode set), queues its files and walks its
  // subdirectories, then drops the walker's reference to d (which may free it).
  void Walk(const std::string& path, DirJob* d, PrefetchedTree* prefetched) {
    if (!FatalStatus().ok()) {
      Release(d);
      return;
    }
    d->ptree = prefetch->Take(d->pnode, prefetched);
    if (d->ptree) prefetch->Queue(*d->ptree, &d->sub_prefetch);
    if (open_dirs.fetch_add(1, std::memory_order_relaxed) < kMaxOpenDirs) {
      d->fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    }
    if (d->fd < 0) open_dirs.fetch_sub(1, std::memory_order_relaxed);
    std::vector<std::string> entries;
    Status rst = ReadDirNames(path, d->fd, &entries);
    if (!rst.ok()) {
      Warn(rst.message());
      entries.clear();
    }
    bool pushed_scope = false;
    if (opt.ignore_files &&
        std::binary_search(entries.begin(), entries.end(), std::string(kIgnoreFileName))) {
      auto text = ReadSmallFile(Join(path, kIgnoreFileName));
      IgnoreScope scope;
      scope.base = path;
      if (text.ok()) {
        Status s = scope.rules.AddIgnoreFileText(*text);
        if (!s.ok()) Warn(Join(path, kIgnoreFileName) + ": " + s.message());
      } else {
        Warn(text.status().message());
      }
      scopes.push_back(std::move(scope));
      pushed_scope = true;
    }

    const size_t n = entries.size();
    d->nodes.resize(n);
    d->keep.reset(new uint8_t[n]());
    std::vector<FileTask> batch;
    uint64_t batch_bytes = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!FatalStatus().ok()) break;
      std::string child = Join(path, entries[i]);
      struct stat cst;
      if ((d->fd >= 0 ? fstatat(d->fd, entries[i].c_str(), &cst, AT_SYMLINK_NOFOLLOW)
                      : lstat(child.c_str(), &cst)) != 0) {
        Warn(ErrnoStatus("lstat " + child, errno).message());
        continue;
      }
      const bool is_dir = S_ISDIR(cst.st_mode);
      if (IsExcluded(child, is_dir)) continue;
      if (S_ISSOCK(cst.st_mode)) continue;  // restic skips sockets too
      const Node* cp = d->ptree ? d->ptree->Find(entries[i]) : nullptr;
      auto nd = NodeFromStat(child, entries[i], cst, &names);
      if (!nd.ok()) {
        Warn(nd.status().message());
        continue;
      }
      d->keep[i] = 1;
      if (is_dir) {
        auto* sub = new DirJob;
        sub->parent = d;
        sub->slot = i;
        sub->node = std::move(*nd);
        sub->pnode = cp;
        d->pending.fetch_add(1, std::memory_order_relaxed);
        Walk(child, sub, cp != nullptr ? d->sub_prefetch.Find(cp->name) : nullptr);
        continue;
      }
      d->nodes[i] = std::move(*nd);
      if (!S_ISREG(cst.st_mode) || saver->ReuseParentContent(&d->nodes[i], cp)) continue;
      const uint64_t size = static_cast<uint64_t>(cst.st_size);
      if (size > kSmallFile) {
        SubmitFiles(d, {FileTask{std::move(child), entries[i].size(), i, cp}}, false);
        continue;
      }
      batch.push_back(FileTask{std::move(child), entries[i].size(), i, cp});
      batch_bytes += size;
      if (batch.size() >= kBatchFiles || batch_bytes >= kBatchBytes) {
        SubmitFiles(d, std::move(batch), true);
        batch.clear();
        batch_bytes = 0;
      }
    }
    if (!batch.empty()) SubmitFiles(d, std::move(batch), true);
    if (pushed_scope) scopes.pop_back();
    Release(d);
  }

  // Archives the directory at `path` (already lstat'ed) into a node with a subtree: walks
  // it, then helps the pool until its last file is stored.
  Result<Node> ArchiveDir(const std::string& path, std::string_view name, const struct stat& st,
                          const Node* pnode) {
    RETURN_IF_ERROR(FatalStatus());
    ASSIGN_OR_RETURN(Node node, NodeFromStat(path, name, st, &names));
    Completion done;
    auto* d = new DirJob;
    d->done = &done;
    d->node = std::move(node);
    d->pnode = pnode;
    Walk(path, d, nullptr);
    for (;;) {
      {
        std::lock_guard<std::mutex> l(done.mu);
        if (done.finished) break;
      }
      if (pool->TryRunOne()) continue;
      std::unique_lock<std::mutex> l(done.mu);
      done.cv.wait_for(l, std::chrono::milliseconds(5), [&done] { return done.finished; });
    }
    std::lock_guard<std::mutex> l(done.mu);
    RETURN_IF_ERROR(done.status);
    return std::move(done.node);
  }

  // One target that is not a directory.
  Result<std::optional<Node>> ArchiveLeaf(const std::string& path, std::string_view name,
                                          const struct stat& st, const Node* pnode) {
    if (S_ISSOCK(st.st_mode)) return std::optional<Node>();
    ASSIGN_OR_RETURN(Node node, NodeFromStat(path, name, st, &names));
    if (S_ISREG(st.st_mode) && !saver->ReuseParentContent(&node, pnode)) {
      Status s = saver->StoreFile(path, -1, std::string_view(), &node, pnode);
      RETURN_IF_ERROR(FatalStatus());
      if (!s.ok()) {
        Warn(s.message());
        return std::optional<Node>();
      }
    }
    return std::optional<Node>(std::move(node));
  }

  // TargetTree::Visitor
  Result<std::optional<Node>> Target(const std::string& path, std::string_view name,
                                     const struct stat& st, const Node* pnode) override {
    if (!S_ISDIR(st.st_mode)) return ArchiveLeaf(path, name, st, pnode);
    ASSIGN_OR_RETURN(Node n, ArchiveDir(path, name, st, pnode));
    return std::optional<Node>(std::move(n));
  }
  Result<Node> Ancestor(const std::string& path, std::string_view name,
                        const struct stat& st) override {
    return NodeFromStat(path, name, st, &names);
  }
  std::optional<Tree> ParentTree(const Node* pnode) override { return prefetch->Load(pnode); }

  Result<std::optional<SnapshotEntry>> FindParent(const std::vector<std::string>& paths,
                                                  const std::string& host) {
    if (opt.no_parent) return std::optional<SnapshotEntry>();
    if (opt.parent) {
      ASSIGN_OR_RETURN(Snapshot s, repo->LoadSnapshot(*opt.parent));
      return std::optional<SnapshotEntry>(SnapshotEntry{*opt.parent, std::move(s)});
    }
    ASSIGN_OR_RETURN(auto all, repo->ListSnapshots(/*skip_broken=*/true));
    std::optional<SnapshotEntry> best;
    for (auto& e : all) {
      auto p = e.snapshot.paths;
      std::sort(p.begin(), p.end());
      if (p != paths || e.snapshot.hostname != host) continue;
      if (!best || best->snapshot.time.Before(e.snapshot.time)) best = std::move(e);
    }
    return best;
  }
};

Archiver::Archiver(Repository* repo, ArchiveOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->repo = repo;
  impl_->opt = std::move(options);
}

Archiver::~Archiver() = default;

ArchiveProgress Archiver::Progress() const {
  ArchiveProgress p;
  p.files = impl_->files;
  p.dirs = impl_->dirs;
  p.bytes = impl_->bytes;
  p.bytes_read = impl_->bytes_read;
  p.bytes_added = impl_->bytes_added;
  p.errors = impl_->errors;
  return p;
}

Result<ArchiveSummary> Archiver::Run() {
  Impl& m = *impl_;
  const auto start = std::chrono::steady_clock::now();
  if (m.opt.paths.empty()) return InvalidArgument("nothing to snapshot: no paths given");
  std::vector<std::string> abs;
  for (const auto& p : m.opt.paths) {
    ASSIGN_OR_RETURN(std::string a, AbsolutePath(p));
    struct stat st;
    if (lstat(a.c_str(), &st) != 0) return ErrnoStatus("snapshot path " + a, errno);
    abs.push_back(std::move(a));
  }
  const TargetTree targets(std::move(abs));
  const std::string host = m.opt.hostname.empty() ? ThisHostname() : m.opt.hostname;

  ASSIGN_OR_RETURN(auto parent, m.FindParent(targets.targets(), host));
  // The parent snapshot's root tree, as the subtree of a directory node.
  Node parent_root;
  if (parent) {
    parent_root.type = NodeType::kDir;
    parent_root.subtree = parent->snapshot.tree;
  }

  const int threads = m.opt.threads > 0 ? m.opt.threads : WorkPool::DefaultThreads();
  m.pool = std::make_unique<WorkPool>(threads, static_cast<size_t>(threads) * 64);
  m.saver = std::make_unique<FileSaver>(m.repo, &m, m.opt.no_parent,
                                         [&m](const Status& st) { m.Fatal(st); });
  m.trees = std::make_unique<TreeSaver>(m.repo, &m);
  m.prefetch = std::make_unique<ParentPrefetch>(m.repo, m.pool.get(),
                                                [&m] { return m.FatalStatus().ok(); });

  auto root = targets.Save(parent ? &parent_root : nullptr, &m, m.trees.get());
  m.pool.reset();  // joins the workers
  if (!root.ok()) return root.status();
  RETURN_IF_ERROR(m.FatalStatus());
  RETURN_IF_ERROR(m.repo->Flush());

  Snapshot snap;
  snap.time = m.opt.time ? *m.opt.time : Timestamp::Now();
  if (parent) snap.parent = parent->id;
  snap.tree = *root;
  snap.paths = targets.targets();
  snap.hostname = host;
  LockInfo me = LockInfo::ForThisProcess(false, snap.time);
  snap.username = me.username;
  snap.uid = me.uid;
  snap.gid = me.gid;
  snap.excludes = m.opt.excludes.patterns();
  snap.tags = m.opt.tags;
  ASSIGN_OR_RETURN(Id sid, m.repo->SaveSnapshot(snap));

  ArchiveSummary s;
  s.snapshot_id = sid;
  s.snapshot = std::move(snap);
  s.files_new = m.files_new;
  s.files_changed = m.files_changed;
  s.files_unmodified = m.files_unmodified;
  s.dirs_new = m.dirs_new;
  s.dirs_changed = m.dirs_changed;
  s.dirs_unmodified = m.dirs_unmodified;
  s.data_blobs = m.data_blobs;
  s.tree_blobs = m.tree_blobs;
  s.data_added = m.data_added;
  s.data_added_stored = m.data_added_stored;
  s.total_files = m.files;
  s.total_bytes = m.bytes;
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  {
    std::lock_guard<std::mutex> l(m.mu);
    s.warnings = m.warnings;
  }
  return s;
}

}  // namespace clawback::store
