// `clawback env check NAME`: whether an environment can be managed right now — its paths
// exist, its git entries are work trees, the programs its dump, load and deploy commands
// start are there, and its health checks pass now. Nothing is changed: dumps, loads and the
// deploy command are looked up, never run.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "timemachine/environment.h"
#include "timemachine/health.h"

namespace clawback::timemachine {

struct CheckItem {
  std::string what;    // "path /srv/app/data", "dump db: pg_dump", "health GET …"
  bool ok = false;
  std::string detail;  // "directory", "missing", "not a git work tree", "HTTP 503: …"
};

struct EnvCheck {
  std::string environment;
  std::vector<CheckItem> items;
  bool ok() const;
  nlohmann::json ToJson() const;
};

EnvCheck CheckEnvironment(const Environment& env);

// The program a shell command line starts ("pg_dump -Fc app" → "pg_dump"; leading
// VAR=value assignments skipped), or "" when there is none.
std::string CommandProgram(const std::string& command_line);

}  // namespace clawback::timemachine
