#include "timemachine/environment.h"

#include <algorithm>
#include <cctype>

#include "common/clock.h"
#include "common/path.h"
#include "common/suggest.h"

namespace clawback::timemachine {
namespace {

bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

Result<std::vector<std::string>> AbsolutePaths(const ConfigSection& s, const std::string& key) {
  ASSIGN_OR_RETURN(std::vector<std::string> raw, s.GetStringArray(key));
  std::vector<std::string> out;
  for (const std::string& p : raw) {
    std::string n = NormalisePath(p);
    if (n.empty()) return s.Error(key, "\"" + p + "\" is not an absolute path");
    for (const std::string& q : out) {
      if (q == n) return s.Error(key, "\"" + p + "\" is listed twice");
      if (PathIsWithin(n, q) || PathIsWithin(q, n))
        return s.Error(key, "\"" + q + "\" and \"" + n + "\" overlap: list the outer one only");
    }
    out.push_back(std::move(n));
  }
  return out;
}

Result<int64_t> Duration(const ConfigSection& s, const std::string& key, int64_t def_ms) {
  if (!s.Has(key)) return def_ms;
  ASSIGN_OR_RETURN(std::string text, s.GetString(key, ""));
  int64_t ms = 0;
  if (!ParseDurationMillis(text, &ms) || ms <= 0)
    return s.Error(key, "\"" + text + "\" is not a duration (e.g. 500ms, 10s, 2m)");
  return ms;
}

Result<HealthCheck> ParseHealth(const ConfigSection& s) {
  HealthCheck h;
  ASSIGN_OR_RETURN(h.http, s.GetString("http", ""));
  ASSIGN_OR_RETURN(h.command, s.GetString("command", ""));
  if (h.http.empty() == h.command.empty())
    return s.Error(h.http.empty() ? "http" : "command",
                   "a health check is either { http = \"URL\" } or { command = \"…\" }, one of the two");
  if (!h.http.empty() && h.http.rfind("http://", 0) != 0 && h.http.rfind("https://", 0) != 0)
    return s.Error("http", "\"" + h.http + "\" is not an http:// or https:// URL");
  ASSIGN_OR_RETURN(int64_t expect, s.GetInt("expect", 200));
  if (expect < 100 || expect > 599) return s.Error("expect", "expected an HTTP status (100-599)");
  if (!h.command.empty() && s.Has("expect"))
    return s.Error("expect", "only an http check has an expected status (a command passes on exit 0)");
  h.expect = static_cast<int>(expect);
  ASSIGN_OR_RETURN(h.timeout_ms, Duration(s, "timeout", 30'000));
  ASSIGN_OR_RETURN(h.interval_ms, Duration(s, "interval", 1'000));
  ASSIGN_OR_RETURN(int64_t passes, s.GetInt("passes", 1));
  if (passes < 1 || passes > 1000) return s.Error("passes", "expected 1 to 1000");
  h.passes = static_cast<int>(passes);
  return h;
}

// What clawback keeps of its own, which no environment may hold: the data dir, and the
// ledger, the repository and its password file wherever the config puts them.
std::vector<std::pair<std::string, std::string>> OwnState(const Config& config) {
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](const std::string& path, const std::string& what) {
    std::string n = NormalisePath(path);
    if (!n.empty()) out.emplace_back(std::move(n), what);
  };
  add(config.data_dir(), "clawback's own data dir");
  const std::string ledger = config.LedgerUrl();
  if (ledger.rfind("sqlite:", 0) == 0) add(ledger.substr(7), "the ledger");
  add(config.RepositoryUrl(), "the repository");  // an s3: URL is not a path: skipped
  add(config.RepositoryPasswordFile(), "the repository's password file");
  return out;
}

Result<Environment> ParseEnvironment(const ConfigSection& s, const std::string& name,
                                     const Config& config) {
  Environment e;
  e.name = name;
  if (!ValidName(name))
    return s.Error("", "environment names are letters, digits, '-', '_' and '.'");
  ASSIGN_OR_RETURN(e.paths, AbsolutePaths(s, "paths"));
  ASSIGN_OR_RETURN(e.git, AbsolutePaths(s, "git"));
  if (e.paths.empty() && e.git.empty())
    return s.Error("paths", "an environment manages at least one path or git repository");
  for (const std::string& root : e.Roots()) {
    const bool is_path = std::find(e.paths.begin(), e.paths.end(), root) != e.paths.end();
    for (const auto& [own, what] : OwnState(config)) {
      if (PathIsWithin(own, root) || PathIsWithin(root, own)) {
        return s.Error(is_path ? "paths" : "git",
                       "\"" + root + "\" holds " + what + " " + own +
                           " (the ledger and the repository are never rolled back)");
      }
    }
  }
  ASSIGN_OR_RETURN(e.exclude, s.GetStringArray("exclude"));
  ASSIGN_OR_RETURN(std::vector<ConfigSection> dumps, s.GetTableArray("dumps"));
  for (const ConfigSection& d : dumps) {
    DumpHook h;
    ASSIGN_OR_RETURN(h.name, d.GetString("name", ""));
    ASSIGN_OR_RETURN(h.dump, d.GetString("dump", ""));
    ASSIGN_OR_RETURN(h.load, d.GetString("load", ""));
    if (!ValidName(h.name)) return d.Error("name", "expected a name of letters, digits, '-', '_', '.'");
    if (h.dump.empty()) return d.Error("dump", "the command that writes the state to stdout is missing");
    if (h.load.empty()) return d.Error("load", "the command that reads the state from stdin is missing");
    for (const DumpHook& other : e.dumps)
      if (other.name == h.name) return d.Error("name", "\"" + h.name + "\" is used by another dump");
    e.dumps.push_back(std::move(h));
  }
  ASSIGN_OR_RETURN(e.deploy, s.GetString("deploy", ""));
  ASSIGN_OR_RETURN(std::vector<ConfigSection> health, s.GetTableArray("health"));
  for (const ConfigSection& h : health) {
    ASSIGN_OR_RETURN(HealthCheck check, ParseHealth(h));
    e.health.push_back(std::move(check));
  }
  if (s.Has("protect_agents")) {
    ASSIGN_OR_RETURN(e.protect_agents, s.GetStringArray("protect_agents"));
    e.all_agents = false;
  }
  ASSIGN_OR_RETURN(e.dump_on_pre, s.GetBool("dump_on_pre", false));
  return e;
}

}  // namespace

std::string HealthCheck::Describe() const {
  if (!http.empty()) return "GET " + http + " → " + std::to_string(expect);
  return "command: " + command;
}

std::vector<std::string> Environment::Roots() const {
  std::vector<std::string> out = paths;
  for (const std::string& g : git) {
    bool covered = std::any_of(paths.begin(), paths.end(),
                               [&](const std::string& p) { return PathIsWithin(g, p); });
    if (!covered) out.push_back(g);
  }
  return out;
}

bool Environment::Manages(const std::string& path) const {
  const std::string n = NormalisePath(path);
  if (n.empty()) return false;
  for (const std::string& r : Roots())
    if (PathIsWithin(n, r)) return true;
  return false;
}

bool Environment::Guards(const std::string& agent) const {
  return all_agents ||
         std::find(protect_agents.begin(), protect_agents.end(), agent) != protect_agents.end();
}

std::string NormalisePath(const std::string& path) {
  if (path.empty() || path[0] != '/') return "";
  return CleanAbsolutePath(path);
}

Result<std::vector<Environment>> LoadEnvironments(const Config& config) {
  std::vector<Environment> out;
  ConfigSection all = config.Section("environments");
  std::vector<std::string> names = all.SubTableNames();
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(Environment e, ParseEnvironment(all.Sub(name), name, config));
    out.push_back(std::move(e));
  }
  return out;
}

Result<Environment> FindEnvironment(const std::vector<Environment>& envs, const std::string& name) {
  std::vector<std::string> names;
  for (const Environment& e : envs) {
    if (e.name == name) return e;
    names.push_back(e.name);
  }
  if (names.empty()) {
    return NotFound("no environment \"" + name +
                    "\": config.toml defines none (add an [environments." + name +
                    "] table; see docs/environments.md)");
  }
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  return NotFound("no environment \"" + name + "\"" + DidYouMean(name, names) +
                  "; config.toml defines: " + list);
}

}  // namespace clawback::timemachine
