// The repository step of `clawback init`, kept apart so the repository subsystem owns it.
//
// Today it makes sure the repository's password file exists: when the configured file is
// missing, a new one is generated (32 random bytes, hex, mode 0600) and reported, because
// losing it loses the backups. The repository subsystem extends this function to create
// the repository itself (restic format v2 `init` with that password) — the CLI calls
// nothing else for it, so that is the one place to add it.
//
// Thread-safety: none needed; called once by `clawback init`.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace clawback::cli {

struct RepositoryInitReport {
  std::string url;            // the effective repository URL
  std::string password_file;  // the effective password file
  bool password_generated = false;
  bool repository_created = false;
  std::vector<std::string> next_steps;  // lines `init` prints under "next steps"
};

Status InitRepositoryForDataDir(const Config& config, RepositoryInitReport* report);

// Creates `path` holding a new random password (64 hex digits and a newline), mode 0600.
// AlreadyExists when the file is there.
Status GeneratePasswordFile(const std::string& path);

}  // namespace clawback::cli
