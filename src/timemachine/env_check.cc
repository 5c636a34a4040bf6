#include "timemachine/env_check.h"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "common/subprocess.h"

namespace clawback::timemachine {
namespace {

CheckItem PathItem(const std::string& path) {
  CheckItem it{"path " + path, false, ""};
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    it.detail = std::strerror(errno);
    return it;
  }
  it.ok = true;
  it.detail = S_ISDIR(st.st_mode) ? "directory" : S_ISREG(st.st_mode) ? "file"
              : S_ISLNK(st.st_mode) ? "symbolic link" : "special file";
  return it;
}

CheckItem GitItem(const std::string& path) {
  CheckItem it{"git " + path, false, ""};
  CommandOptions o;
  o.argv = {"git", "-C", path, "rev-parse", "--show-toplevel"};
  o.timeout = std::chrono::seconds(10);
  auto r = RunCommand(o);
  if (!r.ok()) {
    it.detail = r.status().message();
    return it;
  }
  if (!r->ok()) {
    it.detail = r->spawn_error.empty() ? "not a git work tree" : r->spawn_error;
    return it;
  }
  std::string top = r->output;
  while (!top.empty() && (top.back() == '\n' || top.back() == '\r')) top.pop_back();
  if (NormalisePath(top) != path) {
    it.detail = "not the top of a work tree (that is " + top + ")";
    return it;
  }
  it.ok = true;
  it.detail = "work tree";
  return it;
}

CheckItem ProgramItem(const std::string& what, const std::string& command_line) {
  const std::string program = CommandProgram(command_line);
  CheckItem it{what + ": " + (program.empty() ? command_line : program), false, ""};
  if (program.empty()) {
    it.detail = "no program in the command";
    return it;
  }
  // The shell's own lookup, so builtins and functions count as well as PATH.
  CommandOptions o;
  o.argv = {"/bin/sh", "-c", "command -v -- \"$0\"", program};
  o.timeout = std::chrono::seconds(5);
  auto r = RunCommand(o);
  if (r.ok() && r->ok()) {
    std::string where = r->output;
    while (!where.empty() && where.back() == '\n') where.pop_back();
    it.ok = true;
    it.detail = where;
  } else {
    it.detail = "not found (not in PATH, not a shell builtin)";
  }
  return it;
}

}  // namespace

std::string CommandProgram(const std::string& line) {
  size_t i = 0;
  for (;;) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t j = i;
    while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
    std::string word = line.substr(i, j - i);
    if (word.empty()) return "";
    const size_t eq = word.find('=');
    if (eq != std::string::npos && eq > 0 && word.find('/') > eq) {
      i = j;  // VAR=value before the program
      continue;
    }
    if (word.size() >= 2 && (word.front() == '"' || word.front() == '\'') && word.back() == word.front())
      word = word.substr(1, word.size() - 2);
    return word;
  }
}

bool EnvCheck::ok() const {
  for (const CheckItem& i : items)
    if (!i.ok) return false;
  return true;
}

nlohmann::json EnvCheck::ToJson() const {
  nlohmann::json items_json = nlohmann::json::array();
  for (const CheckItem& i : items)
    items_json.push_back({{"what", i.what}, {"ok", i.ok}, {"detail", i.detail}});
  return {{"environment", environment}, {"ok", ok()}, {"checks", items_json}};
}

EnvCheck CheckEnvironment(const Environment& env) {
  EnvCheck c;
  c.environment = env.name;
  for (const std::string& p : env.paths) c.items.push_back(PathItem(p));
  for (const std::string& g : env.git) c.items.push_back(GitItem(g));
  for (const DumpHook& d : env.dumps) {
    c.items.push_back(ProgramItem("dump " + d.name, d.dump));
    c.items.push_back(ProgramItem("load " + d.name, d.load));
  }
  if (!env.deploy.empty()) c.items.push_back(ProgramItem("deploy", env.deploy));
  for (const HealthResult& h : RunHealthChecks(env.health)) {
    CheckItem it{"health " + h.check, h.passed, h.detail};
    if (h.attempts > 1) it.detail += " (" + std::to_string(h.attempts) + " tries in " +
                                     std::to_string(h.duration_ms) + " ms)";
    c.items.push_back(std::move(it));
  }
  return c;
}

}  // namespace clawback::timemachine
