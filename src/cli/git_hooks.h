// clawback's git hooks (integrations/git/, embedded at build time) and their installer.
//
// install: the hooks go into the repository's hooks directory as git resolves it
// (`git rev-parse --git-path hooks`, so core.hooksPath is respected). A hook that is there
// and is not clawback's is renamed to <hook>.pre-clawback and chained: clawback's hook runs
// it first with the same arguments. clawback's own hooks are recognised by their marker
// line and rewritten in place, so installing again is idempotent.
//
// Thread-safety: none; one call per command.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace clawback::cli {

// The hook names clawback installs, and their embedded text with the placeholders
// __CLAWBACK_BIN__ and __CLAWBACK_HOME__.
const std::vector<std::string>& GitHookNames();
std::string GitHookTemplate(const std::string& name);
// The marker line that identifies clawback's hooks.
inline constexpr char kGitHookMarker[] = "# clawback-hook:";

struct HookInstallResult {
  std::string hook;
  std::string path;
  std::string action;   // "installed", "updated", "chained"
  std::string chained;  // the renamed previous hook, for "chained"
};

struct HookInstallOptions {
  std::string repo;           // a directory inside the work tree (or a bare repo)
  std::string clawback_bin;   // absolute path baked into the hooks
  std::string clawback_home;  // data dir baked into the hooks (used when the env has none)
};

// The hooks directory of `repo`, absolute.
Result<std::string> GitHooksDir(const std::string& repo);
Result<std::vector<HookInstallResult>> InstallGitHooks(const HookInstallOptions& opt);

}  // namespace clawback::cli
