#include "store/restorer/restorer.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "store/archiver/exclude.h"
#include "store/archiver/fs_node.h"
#include "store/archiver/work_pool.h"
#include "store/buffer_pool.h"

namespace clawback::store {
namespace {

std::string NormalizeInclude(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  if (s.empty() || s[0] != '/') s = "/" + s;
  return s;
}

bool HasGlob(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

}  // namespace

struct Restorer::Impl {
  Repository* repo;
  Id root;
  RestoreOptions opt;
  FileSystem* fs;  // opt.fs or the default
  std::unique_ptr<WorkPool> pool;
  std::vector<std::string> plain_includes;  // normalized "/a/b"
  ExcludeSet glob_includes;
  bool select_all = true;

  std::atomic<uint64_t> files{0}, dirs{0}, others{0}, bytes{0}, total_bytes{0};
  std::atomic<uint64_t> symlinks{0}, hardlinks{0}, verified{0};
  std::atomic<bool> walk_done{false};
  std::mutex mu;
  std::vector<std::string> errors;      // GUARDED_BY(mu)
  std::set<std::string> failed_files;   // removed partial files; GUARDED_BY(mu)
  std::vector<std::pair<std::string, Node>> dir_meta;  // walker only; applied in reverse
  std::map<std::pair<uint64_t, uint64_t>, std::string> link_first;  // walker only
  std::vector<std::pair<std::string, std::string>> links_made;       // (first, link); walker only
  std::vector<std::pair<std::string, Node>> written;  // files to verify (walker only)

  // The directories from the target down to the one being restored (walker only). A level
  // is made (mkdir) when something below it is selected; `fd` (read-only) once it was entered.
  struct Level {
    std::string path;
    std::string name;
    const Node* node;  // null for the target root
    bool created;
    int fd = -1;
  };
  std::vector<Level> stack;
  bool spread_dirs = true;           // walker only
  std::vector<std::string> spread;   // directories given FS_TOPDIR_FL (walker only)

  // A file created (and open) by the walker, filled by a worker.
  struct OpenFile {
    int fd;
    std::string path;
    std::shared_ptr<const Node> node;
  };
  // Small files go to the workers in batches (one task per 4 KiB file cost more in queueing
  // than in writing).
  static constexpr size_t kBatchFiles = 32;
  static constexpr uint64_t kBatchBytes = 1 << 20;
  std::vector<OpenFile> batch;  // walker only
  uint64_t batch_bytes = 0;

  // Open file descriptors handed to the workers, at most fd_budget (well below
  // RLIMIT_NOFILE): the walker helps or waits when it is reached.
  std::mutex fd_mu;
  std::condition_variable fd_cv;
  size_t open_fds = 0;  // GUARDED_BY(fd_mu)
  size_t fd_budget = 256;

  void Error(const std::string& e) {
    std::lock_guard<std::mutex> l(mu);
    errors.push_back(e);
  }

  bool Selected(const std::string& rel, bool is_dir) const {
    if (select_all) return true;
    for (const auto& inc : plain_includes) {
      if (rel == inc || (rel.size() > inc.size() && rel.compare(0, inc.size(), inc) == 0 &&
                         rel[inc.size()] == '/')) {
        return true;
      }
    }
    return !glob_includes.empty() && glob_includes.Excluded(std::string_view(rel).substr(1), is_dir);
  }

  // Whether something below directory `rel` may be selected.
  bool MightContain(const std::string& rel) const {
    if (select_all || !glob_includes.empty()) return true;
    for (const auto& inc : plain_includes) {
      if (inc.size() > rel.size() && inc.compare(0, rel.size(), rel) == 0 && inc[rel.size()] == '/') {
        return true;
      }
    }
    return false;
  }

  void WillCreate(const std::string& path) {
    if (opt.on_create_for_test) opt.on_create_for_test(path);
  }

  RestoreMetadataOptions MetaOptions() const {
    RestoreMetadataOptions mo;
    mo.chown = opt.chown;
    mo.fs = fs;
    return mo;
  }

  bool Failed(const std::string& path) {
    std::lock_guard<std::mutex> l(mu);
    return failed_files.count(path) != 0;
  }

  // A file whose contents could not all be written (or whose close reported a write error)
  // is removed, so no file that looks restored but is not stays under its name; `st` says so.
  void RemovePartial(const std::string& path, Status* st) {
    {
      std::lock_guard<std::mutex> l(mu);
      failed_files.insert(path);
    }
    const int r = fs->Unlink(path);
    std::string m = st->message();
    m += r == 0 || r == -ENOENT ? " (partial file removed)"
                                : std::string(" (and removing the partial file failed: ") +
                                      std::strerror(-r) + ")";
    *st = Status(st->code(), std::move(m));
  }

  // mkdir of `name` in directory fd `parent` (an existing directory is fine).
  Status MakeDir(int parent, const std::string& name, const std::string& path, const Node* node) {
    WillCreate(path);
    const int r = fs->MkdirAt(parent, name.c_str(), 0700);
    if (r < 0 && r != -EEXIST) return FsStatus("mkdir " + path, r);
    if (node != nullptr) {
      dir_meta.emplace_back(path, *node);
      dirs++;
    }
    return Status::Ok();
  }

  // Opens a made directory of the stack for the *at calls below it (not following a
  // symlink that stands where the directory should be).
  Status OpenLevel(size_t i) {
    Level& lv = stack[i];
    if (lv.fd >= 0) return Status::Ok();
    const int fd = fs->OpenAt(stack[i - 1].fd, lv.name.c_str(),
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0) return FsStatus("open directory " + lv.path, fd);
    lv.fd = fd;
    SpreadChildren(lv.fd, lv.path);
    return Status::Ok();
  }

  // ext4 puts a new file in the first block group of its directory's flex group that has a
  // free inode, and a new subdirectory in its parent's flex group; on a file system without
  // a journal the inode allocator then skips, one by one, every inode of that group deleted
  // in the last minute (5 when its inode table block is dirty). A restore into a directory
  // whose previous restore was just deleted thus scanned thousands of inodes per file (most
  // of its time). With the "top directory" flag (chattr +T) on the directories being
  // restored, ext4 spreads their subdirectories over the flex groups like top-level ones,
  // so each directory's files land where few were deleted. The flag is set only on
  // directories that lacked it and taken off again once the restore is done.
  void SpreadChildren(int fd, const std::string& path) {
    if (!spread_dirs) return;
    int flags = 0;
    if (fs->GetInodeFlags(fd, &flags) != 0) {
      spread_dirs = false;  // not a file system with such flags
      return;
    }
    if ((flags & FS_TOPDIR_FL) != 0) return;
    if (fs->SetInodeFlags(fd, flags | FS_TOPDIR_FL) != 0) return;
    spread.push_back(path);
  }

  // Takes the flag off the directories SpreadChildren put it on.
  void UnspreadAll() {
    for (const std::string& path : spread) {
      const int fd = fs->Open(path.empty() ? "/" : path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int flags = 0;
      if (fd >= 0 && fs->GetInodeFlags(fd, &flags) == 0) {
        if (fs->SetInodeFlags(fd, flags & ~FS_TOPDIR_FL) != 0) {
          Error("clear the top-directory flag of " + path);
        }
      }
      if (fd >= 0) (void)fs->Close(fd);
    }
    spread.clear();
  }

  // Makes and opens the directories of the stack that are not there yet.
  Status EnsureDirs() {
    for (size_t i = 1; i < stack.size(); i++) {
      Level& lv = stack[i];
      if (!lv.created) {
        RETURN_IF_ERROR(MakeDir(stack[i - 1].fd, lv.name, lv.path, lv.node));
        lv.created = true;
      }
      RETURN_IF_ERROR(OpenLevel(i));
    }
    return Status::Ok();
  }

  // Runs `make` (which creates `name` in `dir`, returning >= 0 or -errno); when something
  // is in the way, removes it (unless it is a directory) and runs `make` once more.
  // Existing files are replaced.
  template <typename Make>
  int Replacing(int dir, const std::string& name, Make make) {
    int r = make();
    if (r == -EEXIST && fs->UnlinkAt(dir, name.c_str(), 0) == 0) r = make();
    return r;
  }

  // Blob buffers go from one file to the next (a fresh 1-8 MiB mapping per blob or per file
  // cost a page fault per 4 KiB restored); freed when Run() ends.
  struct BlobBuffers {
    std::string plain, scratch;
  };
  BufferPool<BlobBuffers> buffers;

  void ReleaseFd(int fd, Status* st, const std::string& path) {
    const int r = fs->Close(fd);
    if (r < 0 && st->ok()) *st = FsStatus("close " + path, r);
    std::lock_guard<std::mutex> l(fd_mu);
    open_fds--;
    fd_cv.notify_one();
  }

  // Worker: writes the contents of a file the walker created and applies its metadata.
  // When the contents fail (a blob, a write, or the close reporting a write error), the
  // file is removed (RemovePartial); a metadata error leaves the complete file in place.
  Status FillFile(const OpenFile& f, BlobBuffers* bufs) {
    const Node& node = *f.node;
    Status st;  // of the contents
    for (const auto& id : node.content) {
      st = repo->LoadBlobInto(BlobType::kData, id, &bufs->plain, &bufs->scratch);
      if (!st.ok()) {
        st = st.WithContext(f.path + ": blob " + id.ShortHex());
        break;
      }
      st = FsStatus("write " + f.path, fs->WriteAll(f.fd, bufs->plain));
      if (!st.ok()) break;
      bytes += bufs->plain.size();
    }
    Status meta;
    if (st.ok()) meta = ApplyNodeMetadataFd(f.fd, f.path, node, MetaOptions());
    ReleaseFd(f.fd, &st, f.path);
    if (!st.ok()) {
      RemovePartial(f.path, &st);
      return st;
    }
    if (meta.ok()) files++;
    return meta;
  }

  void FlushBatch() {
    if (batch.empty()) return;
    auto task = std::make_shared<std::vector<OpenFile>>(std::move(batch));
    batch.clear();
    batch_bytes = 0;
    pool->Submit([this, task] {
      std::unique_ptr<BlobBuffers> bufs = buffers.Take();
      for (const OpenFile& f : *task) {
        Status s = FillFile(f, bufs.get());
        if (!s.ok()) Error(s.message());
      }
      buffers.Give(std::move(bufs));
    });
  }

  // Before the walker opens one more file: keeps the files handed out under the budget.
  void WaitForFd() {
    std::unique_lock<std::mutex> l(fd_mu);
    while (open_fds >= fd_budget) {
      l.unlock();
      FlushBatch();  // what is waiting in the batch holds descriptors too
      if (!pool->TryRunOne()) {
        l.lock();
        fd_cv.wait_for(l, std::chrono::milliseconds(5), [&] { return open_fds < fd_budget; });
        continue;
      }
      l.lock();
    }
    open_fds++;
  }

  Status RestoreFile(const Node& node, int dir, const std::string& path) {
    const RestoreMetadataOptions mo = MetaOptions();
    if (node.links > 1) {
      auto key = std::make_pair(node.device_id, node.inode);
      auto it = link_first.find(key);
      if (it != link_first.end()) {
        WillCreate(path);
        const std::string& first = it->second;
        if (Failed(first)) return IOError(path + ": not restored: its hard link " + first + " failed");
        const int r = Replacing(dir, node.name, [&] {
          return fs->LinkAt(FileSystem::kCwd, first.c_str(), dir, node.name.c_str(), 0);
        });
        if (r < 0) {
          // The first file's writer may have failed and removed it between the check
          // above and the link: say so, not "No such file or directory".
          if (r == -ENOENT && Failed(first))
            return IOError(path + ": not restored: its hard link " + first + " failed");
          return FsStatus("link " + path, r);
        }
        links_made.emplace_back(first, path);
        hardlinks++;
        files++;
        return Status::Ok();
      }
    }
    WaitForFd();
    WillCreate(path);
    const int fd = Replacing(dir, node.name, [&] {
      return fs->OpenAt(dir, node.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                        0600);
    });
    if (fd < 0) {
      Status st = FsStatus("create " + path, fd);
      std::lock_guard<std::mutex> l(fd_mu);
      open_fds--;
      return st;
    }
    if (node.links > 1) link_first[std::make_pair(node.device_id, node.inode)] = path;
    if (opt.verify) written.emplace_back(path, node);
    if (node.size == 0 || node.content.empty()) {
      // Nothing to write: the walker finishes it (a task would cost more than this).
      Status st = ApplyNodeMetadataFd(fd, path, node, mo);
      ReleaseFd(fd, &st, path);
      if (st.ok()) files++;
      return st;
    }
    total_bytes += node.size;
    batch.push_back({fd, path, std::make_shared<const Node>(node)});
    batch_bytes += node.size;
    if (batch.size() >= kBatchFiles || batch_bytes >= kBatchBytes) FlushBatch();
    return Status::Ok();
  }

  Status VerifyFile(const std::string& path, const Node& node) {
    const int fd = fs->Open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return FsStatus("verify: open " + path, fd);
    std::string buf;
    Status st;
    uint64_t total = 0;
    for (const auto& id : node.size > 0 ? node.content : std::vector<Id>()) {
      auto loc = repo->index().Lookup({id, BlobType::kData});
      if (!loc) {
        st = NotFound("verify: blob " + id.ShortHex() + " of " + path + " is not in the index");
        break;
      }
      buf.resize(loc->blob.PlaintextSize());
      const int64_t n = fs->ReadFull(fd, buf.data(), buf.size());
      if (n < 0) {
        st = FsStatus("verify: read " + path, n);
        break;
      }
      const size_t got = static_cast<size_t>(n);
      if (got != buf.size() || Id::Hash(buf) != id) {
        st = Corruption("verify: " + path + " differs from the snapshot at offset " +
                        std::to_string(total));
        break;
      }
      total += got;
    }
    if (st.ok()) {
      char extra;
      if (fs->Read(fd, &extra, 1) > 0) st = Corruption("verify: " + path + " is longer than in the snapshot");
    }
    (void)fs->Close(fd);
    if (st.ok()) verified++;
    return st;
  }

  // A non-directory entry of the directory open as `dir`.
  Status RestoreNode(const Node& node, int dir, const std::string& path) {
    const RestoreMetadataOptions mo = MetaOptions();
    switch (node.type) {
      case NodeType::kFile:
        return RestoreFile(node, dir, path);
      case NodeType::kSymlink: {
        WillCreate(path);
        const int r = Replacing(dir, node.name, [&] {
          return fs->SymlinkAt(node.linktarget.c_str(), dir, node.name.c_str());
        });
        if (r < 0) return FsStatus("symlink " + path, r);
        symlinks++;
        others++;
        return ApplyNodeMetadata(path, node, mo);
      }
      case NodeType::kFifo:
      case NodeType::kCharDev:
      case NodeType::kDev: {
        mode_t type = node.type == NodeType::kFifo      ? S_IFIFO
                      : node.type == NodeType::kCharDev ? S_IFCHR
                                                        : S_IFBLK;
        WillCreate(path);
        const int r = Replacing(dir, node.name, [&] {
          return fs->MknodAt(dir, node.name.c_str(), type | 0600, static_cast<dev_t>(node.device));
        });
        if (r < 0) return FsStatus("mknod " + path, r);
        others++;
        return ApplyNodeMetadata(path, node, mo);
      }
      case NodeType::kSocket:
      case NodeType::kIrregular:
      case NodeType::kUnknown:
      case NodeType::kDir:
        return Status::Ok();  // nothing restic restores either (directories: RestoreTree)
    }
    return Status::Ok();
  }

  // Restores the tree of stack.back(): first makes its selected subdirectories, then its
  // other entries in the tree's (name) order, then descends into the subdirectories. Every
  // entry is made here, on the walker's thread: on ext4 a creation holds the directory's
  // lock while the inode allocator runs, and workers creating files in one directory at
  // once spun on it (issue 12, item 11).
  Status RestoreTree(const Id& tree_id, const std::string& rel, bool selected) {
    ASSIGN_OR_RETURN(Tree tree, repo->LoadTree(tree_id));
    const std::string dir = stack.back().path;
    struct Sub {
      const Node* node;
      bool selected;
      bool created;
    };
    std::vector<Sub> subs;
    std::vector<const Node*> others_sel;
    for (const Node& node : tree.nodes) {
      if (node.name.empty() || node.name == "." || node.name == ".." ||
          node.name.find('/') != std::string::npos) {
        Error("refusing to restore a node named \"" + node.name + "\" in " + dir);
        continue;
      }
      const std::string child_rel = rel + "/" + node.name;
      const bool is_dir = node.type == NodeType::kDir;
      const bool sel = selected || Selected(child_rel, is_dir);
      if (!is_dir) {
        if (sel) others_sel.push_back(&node);
        continue;
      }
      if (!node.subtree) {
        Error("directory " + child_rel + " has no subtree");
        continue;
      }
      if (!sel && !MightContain(child_rel)) continue;
      bool created = false;
      if (sel) {
        Status s = EnsureDirs();
        if (s.ok()) s = MakeDir(stack.back().fd, node.name, dir + "/" + node.name, &node);
        if (!s.ok()) {
          Error(s.message());
          continue;
        }
        created = true;
      }
      subs.push_back({&node, sel, created});
    }
    if (!others_sel.empty()) {
      Status s = EnsureDirs();
      if (!s.ok()) {
        Error(s.message());
        others_sel.clear();
      }
    }
    for (const Node* node : others_sel) {
      Status s = RestoreNode(*node, stack.back().fd, dir + "/" + node->name);
      if (!s.ok()) Error(s.message());
    }
    for (const Sub& sub : subs) {
      const Node& node = *sub.node;
      stack.push_back({dir + "/" + node.name, node.name, &node, sub.created});
      if (sub.created) {
        Status o = OpenLevel(stack.size() - 1);
        if (!o.ok()) {
          Error(o.message());
          stack.pop_back();
          continue;
        }
      }
      Status s = RestoreTree(*node.subtree, rel + "/" + node.name, sub.selected);
      if (stack.back().fd >= 0) (void)fs->Close(stack.back().fd);
      stack.pop_back();
      if (!s.ok()) {
        if (s.code() == StatusCode::kIOError || s.code() == StatusCode::kPermissionDenied) {
          Error(s.message());
        } else {
          return s;
        }
      }
    }
    return Status::Ok();
  }
};

Restorer::Restorer(Repository* repo, Id tree, RestoreOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->repo = repo;
  impl_->root = tree;
  impl_->opt = std::move(options);
  impl_->fs = impl_->opt.fs != nullptr ? impl_->opt.fs : FileSystem::Default();
}

Restorer::~Restorer() = default;

RestoreProgress Restorer::Progress() const {
  RestoreProgress p;
  p.files = impl_->files;
  p.dirs = impl_->dirs;
  p.others = impl_->others;
  p.bytes = impl_->bytes;
  p.total_bytes = impl_->total_bytes;
  p.walk_done = impl_->walk_done;
  return p;
}

Result<RestoreSummary> Restorer::Run() {
  Impl& m = *impl_;
  const auto start = std::chrono::steady_clock::now();
  if (m.opt.target.empty()) return InvalidArgument("no restore target given");
  for (const auto& inc : m.opt.includes) {
    m.select_all = false;
    if (HasGlob(inc)) {
      RETURN_IF_ERROR(m.glob_includes.Add(inc));
    } else {
      m.plain_includes.push_back(NormalizeInclude(inc));
    }
  }
  std::string target = m.opt.target;
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  if (int r = m.fs->Mkdir(target, 0700); r < 0 && r != -EEXIST) {
    return FsStatus("create restore target " + target, r);
  }
  struct stat tst;
  if (m.fs->Stat(target, &tst) != 0 || !S_ISDIR(tst.st_mode)) {
    return InvalidArgument("restore target " + target + " is not a directory");
  }
  const int threads = m.opt.threads > 0 ? m.opt.threads : WorkPool::DefaultThreads();
  m.pool = std::make_unique<WorkPool>(threads, static_cast<size_t>(threads) * 16);
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
    // Half of what is left after ~64 for the repository, directories and the rest.
    const size_t cur = static_cast<size_t>(nofile.rlim_cur);
    m.fd_budget = std::clamp<size_t>(cur > 64 ? (cur - 64) / 2 : 1, 1, 1024);
  }
  const int root_fd = m.fs->Open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return FsStatus("open restore target " + target, root_fd);
  m.SpreadChildren(root_fd, target);
  m.stack.push_back({target == "/" ? std::string() : target, std::string(), nullptr, true, root_fd});
  Status walk = m.RestoreTree(m.root, "", m.select_all);
  m.FlushBatch();
  m.walk_done = true;
  {
    // Drain: help until every file task has run, then stop the workers.
    while (m.pool->TryRunOne()) {
    }
    m.pool.reset();
    m.buffers.Clear();
  }
  (void)m.fs->Close(root_fd);
  m.stack.clear();
  m.UnspreadAll();
  // Hard links made to a file whose contents then failed point at its partial data: they
  // go with it.
  for (const auto& [first, link] : m.links_made) {
    if (!m.Failed(first)) continue;
    (void)m.fs->Unlink(link);
    {
      std::lock_guard<std::mutex> l(m.mu);
      m.failed_files.insert(link);
    }
    m.Error(link + ": not restored: its hard link " + first + " failed");
  }
  RETURN_IF_ERROR(walk);
  // Directory metadata last, deepest first, so writing files does not disturb mtimes.
  const RestoreMetadataOptions mo = m.MetaOptions();
  for (auto it = m.dir_meta.rbegin(); it != m.dir_meta.rend(); ++it) {
    Status s = ApplyNodeMetadata(it->first, it->second, mo);
    if (!s.ok()) m.Error(s.message());
  }
  if (m.opt.verify) {
    WorkPool vpool(threads, static_cast<size_t>(threads) * 16);
    TaskGroup group(&vpool);
    for (const auto& [path, node] : m.written) {
      if (m.Failed(path)) continue;  // removed, and reported already
      const std::string* p = &path;
      const Node* n = &node;
      group.Run([&m, p, n] {
        Status s = m.VerifyFile(*p, *n);
        if (!s.ok()) m.Error(s.message());
      });
    }
    group.Wait();
  }
  RestoreSummary s;
  s.files = m.files;
  s.dirs = m.dirs;
  s.symlinks = m.symlinks;
  s.hardlinks = m.hardlinks;
  s.others = m.others;
  s.bytes = m.bytes;
  s.verified_files = m.verified;
  {
    std::lock_guard<std::mutex> l(m.mu);
    s.errors = m.errors;
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

}  // namespace clawback::store
