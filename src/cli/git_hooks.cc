#include "cli/git_hooks.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/child_process.h"
#include "cli/git_hooks_embedded.h"

namespace clawback::cli {
namespace {

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus("open " + path, errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Single-quoted for sh.
std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

Status WriteExecutable(const std::string& path, const std::string& text) {
  std::string tmp = path + ".clawback-tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return ErrnoStatus("create " + tmp, errno);
    out << text;
    out.flush();
    if (!out) return IOError("write " + tmp + " failed");
  }
  if (::chmod(tmp.c_str(), 0755) != 0) return ErrnoStatus("chmod " + tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoStatus("rename " + tmp, errno);
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& GitHookNames() {
  static const std::vector<std::string> kNames = {"prepare-commit-msg", "commit-msg",
                                                  "post-commit"};
  return kNames;
}

std::string GitHookTemplate(const std::string& name) {
  if (name == "prepare-commit-msg") return kHookPrepareCommitMsg;
  if (name == "commit-msg") return kHookCommitMsg;
  if (name == "post-commit") return kHookPostCommit;
  return "";
}

Result<std::string> GitHooksDir(const std::string& repo) {
  ASSIGN_OR_RETURN(auto top, RunCapture({"git", "-C", repo, "rev-parse", "--absolute-git-dir"}));
  if (top.exit_code != 0) {
    return NotFound(repo + " is not a git repository (git rev-parse failed)");
  }
  ASSIGN_OR_RETURN(auto hooks, RunCapture({"git", "-C", repo, "rev-parse", "--git-path", "hooks"}));
  if (hooks.exit_code != 0) return IOError("git rev-parse --git-path hooks failed in " + repo);
  std::string dir = Trim(hooks.out);
  if (dir.empty()) return IOError("git did not name a hooks directory for " + repo);
  if (dir[0] != '/') {
    // Relative to where git ran: the repo directory given.
    char buf[4096];
    std::string base = repo;
    if (base.empty() || base[0] != '/') {
      if (::getcwd(buf, sizeof buf) == nullptr) return ErrnoStatus("getcwd", errno);
      base = std::string(buf) + (repo.empty() || repo == "." ? "" : "/" + repo);
    }
    dir = base + "/" + dir;
  }
  return dir;
}

Result<std::vector<HookInstallResult>> InstallGitHooks(const HookInstallOptions& opt) {
  // The values sit inside double quotes in the hooks; refuse what would break them.
  for (const auto& v : {opt.clawback_bin, opt.clawback_home}) {
    if (v.find_first_of("\"`$\\\n") != std::string::npos) {
      return InvalidArgument("cannot bake " + ShellQuote(v) +
                             " into a hook: it contains a quote, $, ` or backslash");
    }
  }
  ASSIGN_OR_RETURN(std::string dir, GitHooksDir(opt.repo));
  // mkdir -p (core.hooksPath may name a directory that does not exist yet).
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = dir.find('/', pos + 1);
    std::string partial = dir.substr(0, pos);
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus("create " + partial, errno);
    }
  }
  std::vector<HookInstallResult> results;
  for (const auto& name : GitHookNames()) {
    HookInstallResult r;
    r.hook = name;
    r.path = dir + "/" + name;
    r.action = "installed";
    if (Exists(r.path)) {
      auto text = ReadFile(r.path);
      bool ours = text.ok() && text->find(kGitHookMarker) != std::string::npos;
      if (ours) {
        r.action = "updated";
      } else {
        std::string chained = r.path + ".pre-clawback";
        if (Exists(chained)) {
          return AlreadyExists("both " + r.path + " and " + chained +
                               " exist and neither is clawback's: merge them by hand, then run "
                               "install-hooks again");
        }
        if (::rename(r.path.c_str(), chained.c_str()) != 0) {
          return ErrnoStatus("rename " + r.path, errno);
        }
        r.action = "chained";
        r.chained = chained;
      }
    }
    std::string text = GitHookTemplate(name);
    text = Replace(text, "__CLAWBACK_BIN__", opt.clawback_bin);
    text = Replace(text, "__CLAWBACK_HOME__", opt.clawback_home);
    RETURN_IF_ERROR(WriteExecutable(r.path, text));
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace clawback::cli
