#include "store/restorer/restorer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <mutex>

#include "store/archiver/exclude.h"
#include "store/archiver/fs_node.h"
#include "store/archiver/work_pool.h"
#include "store/buffer_pool.h"

namespace clawback::store {
namespace {

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write " + path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Removes whatever is at `path` unless it is a directory.
void RemoveNonDir(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) unlink(path.c_str());
}

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
  std::unique_ptr<WorkPool> pool;
  std::vector<std::string> plain_includes;  // normalized "/a/b"
  ExcludeSet glob_includes;
  bool select_all = true;

  std::atomic<uint64_t> files{0}, dirs{0}, others{0}, bytes{0}, total_bytes{0};
  std::atomic<uint64_t> symlinks{0}, hardlinks{0}, verified{0};
  std::atomic<bool> walk_done{false};
  std::mutex mu;
  std::vector<std::string> errors;
  std::vector<std::pair<std::string, Node>> dir_meta;  // walker only; applied in reverse
  std::map<std::pair<uint64_t, uint64_t>, std::string> link_first;  // walker only
  std::vector<std::pair<std::string, Node>> written;  // files to verify (walker only)

  struct Level {
    std::string path;
    const Node* node;  // null for the target root
    bool created;
  };
  std::vector<Level> stack;

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

  // Creates the directories of the stack that are not there yet.
  Status EnsureDirs() {
    for (auto& lv : stack) {
      if (lv.created) continue;
      if (mkdir(lv.path.c_str(), 0700) != 0 && errno != EEXIST) {
        return ErrnoStatus("mkdir " + lv.path, errno);
      }
      lv.created = true;
      if (lv.node != nullptr) {
        dir_meta.emplace_back(lv.path, *lv.node);
        dirs++;
      }
    }
    return Status::Ok();
  }

  // Blob buffers go from one file to the next (a fresh 1-8 MiB mapping per blob or per file
  // cost a page fault per 4 KiB restored); freed when Run() ends.
  struct BlobBuffers {
    std::string plain, scratch;
  };
  BufferPool<BlobBuffers> buffers;

  // REQUIRES: nothing but (possibly) our own pre-created file is at `path`.
  Status WriteFile(const std::string& path, const Node& node) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return ErrnoStatus("create " + path, errno);
    Status st;
    if (node.size > 0) {
      std::unique_ptr<BlobBuffers> bufs = buffers.Take();
      std::string& blob = bufs->plain;
      for (const auto& id : node.content) {
        st = repo->LoadBlobInto(BlobType::kData, id, &blob, &bufs->scratch);
        if (!st.ok()) {
          st = st.WithContext(path + ": blob " + id.ShortHex());
          break;
        }
        st = WriteAll(fd, blob, path);
        if (!st.ok()) break;
        bytes += blob.size();
      }
      buffers.Give(std::move(bufs));
    }
    if (close(fd) != 0 && st.ok()) st = ErrnoStatus("close " + path, errno);
    RETURN_IF_ERROR(st);
    RestoreMetadataOptions mo;
    mo.chown = opt.chown;
    RETURN_IF_ERROR(ApplyNodeMetadata(path, node, mo));
    files++;
    return Status::Ok();
  }

  Status VerifyFile(const std::string& path, const Node& node) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return ErrnoStatus("verify: open " + path, errno);
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
      size_t got = 0;
      while (got < buf.size()) {
        ssize_t n = read(fd, buf.data() + got, buf.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
      }
      if (got != buf.size() || Id::Hash(buf) != id) {
        st = Corruption("verify: " + path + " differs from the snapshot at offset " +
                        std::to_string(total));
        break;
      }
      total += got;
    }
    if (st.ok()) {
      char extra;
      if (read(fd, &extra, 1) > 0) st = Corruption("verify: " + path + " is longer than in the snapshot");
    }
    close(fd);
    if (st.ok()) verified++;
    return st;
  }

  Status RestoreNode(const Node& node, const std::string& path, const std::string& rel) {
    RestoreMetadataOptions mo;
    mo.chown = opt.chown;
    switch (node.type) {
      case NodeType::kFile: {
        RETURN_IF_ERROR(EnsureDirs());
        if (node.links > 1) {
          auto key = std::make_pair(node.device_id, node.inode);
          auto it = link_first.find(key);
          if (it != link_first.end()) {
            RemoveNonDir(path);
            if (link(it->second.c_str(), path.c_str()) != 0) {
              return ErrnoStatus("link " + path, errno);
            }
            hardlinks++;
            files++;
            return Status::Ok();
          }
          // Create it now so later links can point at it; the task fills it.
          RemoveNonDir(path);
          int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
          if (fd < 0) return ErrnoStatus("create " + path, errno);
          close(fd);
          link_first[key] = path;
        }
        if (node.links <= 1) RemoveNonDir(path);
        total_bytes += node.size;
        auto shared = std::make_shared<Node>(node);
        pool->Submit([this, path, shared] {
          Status s = WriteFile(path, *shared);
          if (!s.ok()) Error(s.message());
        });
        if (opt.verify) written.emplace_back(path, node);
        return Status::Ok();
      }
      case NodeType::kSymlink: {
        RETURN_IF_ERROR(EnsureDirs());
        RemoveNonDir(path);
        if (symlink(node.linktarget.c_str(), path.c_str()) != 0) {
          return ErrnoStatus("symlink " + path, errno);
        }
        symlinks++;
        others++;
        return ApplyNodeMetadata(path, node, mo);
      }
      case NodeType::kFifo:
      case NodeType::kCharDev:
      case NodeType::kDev: {
        RETURN_IF_ERROR(EnsureDirs());
        RemoveNonDir(path);
        mode_t type = node.type == NodeType::kFifo      ? S_IFIFO
                      : node.type == NodeType::kCharDev ? S_IFCHR
                                                        : S_IFBLK;
        if (mknod(path.c_str(), type | 0600, static_cast<dev_t>(node.device)) != 0) {
          return ErrnoStatus("mknod " + path, errno);
        }
        others++;
        return ApplyNodeMetadata(path, node, mo);
      }
      case NodeType::kSocket:
      case NodeType::kIrregular:
      case NodeType::kUnknown:
        return Status::Ok();  // nothing restic restores either
      case NodeType::kDir:
        break;
    }
    (void)rel;
    return Status::Ok();
  }

  Status RestoreTree(const Id& tree_id, const std::string& dir, const std::string& rel,
                     bool selected) {
    ASSIGN_OR_RETURN(Tree tree, repo->LoadTree(tree_id));
    for (const Node& node : tree.nodes) {
      if (node.name.empty() || node.name == "." || node.name == ".." ||
          node.name.find('/') != std::string::npos) {
        Error("refusing to restore a node named \"" + node.name + "\" in " + dir);
        continue;
      }
      const std::string path = dir + "/" + node.name;
      const std::string child_rel = rel + "/" + node.name;
      const bool is_dir = node.type == NodeType::kDir;
      const bool sel = selected || Selected(child_rel, is_dir);
      if (is_dir) {
        if (!node.subtree) {
          Error("directory " + child_rel + " has no subtree");
          continue;
        }
        if (!sel && !MightContain(child_rel)) continue;
        stack.push_back({path, &node, false});
        if (sel) {
          Status s = EnsureDirs();
          if (!s.ok()) {
            stack.pop_back();
            Error(s.message());
            continue;
          }
        }
        Status s = RestoreTree(*node.subtree, path, child_rel, sel);
        stack.pop_back();
        if (!s.ok()) {
          if (s.code() == StatusCode::kIOError || s.code() == StatusCode::kPermissionDenied) {
            Error(s.message());
          } else {
            return s;
          }
        }
        continue;
      }
      if (!sel) continue;
      Status s = RestoreNode(node, path, child_rel);
      if (!s.ok()) Error(s.message());
    }
    return Status::Ok();
  }
};

Restorer::Restorer(Repository* repo, Id tree, RestoreOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->repo = repo;
  impl_->root = tree;
  impl_->opt = std::move(options);
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
  if (mkdir(target.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus("create restore target " + target, errno);
  }
  struct stat tst;
  if (stat(target.c_str(), &tst) != 0 || !S_ISDIR(tst.st_mode)) {
    return InvalidArgument("restore target " + target + " is not a directory");
  }
  const int threads = m.opt.threads > 0 ? m.opt.threads : WorkPool::DefaultThreads();
  m.pool = std::make_unique<WorkPool>(threads, static_cast<size_t>(threads) * 16);
  m.stack.push_back({target == "/" ? std::string() : target, nullptr, true});
  Status walk = m.RestoreTree(m.root, target == "/" ? std::string() : target, "", m.select_all);
  m.walk_done = true;
  {
    // Drain: help until every file task has run, then stop the workers.
    while (m.pool->TryRunOne()) {
    }
    m.pool.reset();
    m.buffers.Clear();
  }
  RETURN_IF_ERROR(walk);
  // Directory metadata last, deepest first, so writing files does not disturb mtimes.
  RestoreMetadataOptions mo;
  mo.chown = m.opt.chown;
  for (auto it = m.dir_meta.rbegin(); it != m.dir_meta.rend(); ++it) {
    Status s = ApplyNodeMetadata(it->first, it->second, mo);
    if (!s.ok()) m.Error(s.message());
  }
  if (m.opt.verify) {
    WorkPool vpool(threads, static_cast<size_t>(threads) * 16);
    TaskGroup group(&vpool);
    for (const auto& [path, node] : m.written) {
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
