// Environments: what the time machine manages and how it is brought up, from config.toml's
// [environments.NAME] tables (docs/environments.md):
//
//   [environments.prod]
//   paths   = ["/srv/openclaw/config", "/srv/app/data"]   # files and directories managed
//   exclude = ["*.sock", "/srv/app/data/cache/**"]
//   git     = ["/srv/gitops"]                              # repositories rolled back by commits
//   dumps   = [{ name = "db", dump = "pg_dump -Fc app", load = "pg_restore -c -d app" }]
//   deploy  = "docker compose -f /srv/gitops/compose.yml up -d"
//   health  = [{ http = "http://127.0.0.1:8080/health", expect = 200, timeout = "30s" },
//              { command = "systemctl is-active app", timeout = "10s" }]
//   protect_agents = ["main"]                              # default: every agent
//   dump_on_pre = false
//
// LoadEnvironments refuses a bad table naming the file, the key and the reason: a relative
// or overlapping path, a path that holds clawback's own data dir (the ledger and the
// repository are never rolled back), a health check that is neither http nor command, a
// duplicate dump name, a duration that is not one.
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace clawback::timemachine {

struct DumpHook {
  std::string name;  // the dump's file name in a snapshot: /.clawback/dumps/NAME
  std::string dump;  // shell command writing the state to stdout
  std::string load;  // shell command reading it back from stdin
};

struct HealthCheck {
  std::string http;     // a URL to GET, or
  std::string command;  // a shell command that exits 0 when healthy
  int expect = 200;     // the HTTP status that passes
  int64_t timeout_ms = 30'000;  // give up after this long
  int64_t interval_ms = 1'000;  // between tries
  int passes = 1;               // tries in a row that must pass

  // "GET http://…/health → 200" or "command: systemctl is-active app".
  std::string Describe() const;
};

struct Environment {
  std::string name;
  std::vector<std::string> paths;    // absolute, normalised, none inside another
  std::vector<std::string> exclude;  // --exclude patterns
  std::vector<std::string> git;      // absolute paths of git work trees
  std::vector<DumpHook> dumps;
  std::string deploy;                // shell command; "" = none
  std::vector<HealthCheck> health;
  // The OpenClaw agents whose mutating tool calls this environment guards; empty with
  // all_agents = every agent.
  std::vector<std::string> protect_agents;
  bool all_agents = true;
  bool dump_on_pre = false;

  // Every root a snapshot of this environment holds: paths, then git work trees not
  // already under one of them.
  std::vector<std::string> Roots() const;
  // Whether `path` (absolute) is one of the roots or below one.
  bool Manages(const std::string& path) const;
  bool Guards(const std::string& agent) const;
};

// Every [environments.NAME] of the config, in name order. No environment may hold what
// clawback keeps of its own: the data dir, the ledger, the repository, its password file.
Result<std::vector<Environment>> LoadEnvironments(const Config& config);

// The environment of that name, or NotFound naming the ones there are (and the nearest).
Result<Environment> FindEnvironment(const std::vector<Environment>& envs, const std::string& name);

// "/a/b/../c/" → "/a/c": lexical, no file system access; "" for a relative path.
std::string NormalisePath(const std::string& path);

}  // namespace clawback::timemachine
