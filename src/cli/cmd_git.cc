// `clawback git install-hooks [REPO]` and the hidden `clawback git record-commit`, which
// the post-commit hook runs.
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cli/child_process.h"
#include "cli/cli.h"
#include "cli/git_hooks.h"
#include "cli/spine_client.h"
#include "common/clock.h"

namespace clawback::cli {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string SelfPath() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "clawback";
  return std::string(buf, static_cast<size_t>(n));
}

std::string AbsoluteDir(const std::string& dir) {
  char buf[PATH_MAX];
  if (::realpath(dir.c_str(), buf) != nullptr) return buf;
  return dir;
}

Status RunInstallHooks(Cli& cli, const std::string& repo) {
  HookInstallOptions opt;
  opt.repo = repo.empty() ? "." : repo;
  opt.clawback_bin = SelfPath();
  opt.clawback_home = AbsoluteDir(cli.DataDir());
  ASSIGN_OR_RETURN(auto results, InstallGitHooks(opt));
  if (cli.global.json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : results) {
      j.push_back({{"hook", r.hook}, {"path", r.path}, {"action", r.action},
                   {"chained", r.chained.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.chained)}});
    }
    std::printf("%s\n", nlohmann::json({{"hooks", j}}).dump().c_str());
    return Status::Ok();
  }
  for (const auto& r : results) {
    if (r.action == "chained") {
      std::printf("%-18s chained: the existing hook is now %s and runs first\n", r.hook.c_str(),
                  r.chained.c_str());
    } else {
      std::printf("%-18s %s %s\n", r.hook.c_str(), r.action.c_str(), r.path.c_str());
    }
  }
  std::printf(
      "Commits made with CLAWBACK_CONVERSATION_ID set (e.g. under `clawback exec`) now carry\n"
      "the trailer Clawback-Conversation: <id> and are recorded in %s.\n",
      cli.ServerUrl().empty() ? ("the ledger of " + opt.clawback_home).c_str()
                              : cli.ServerUrl().c_str());
  return Status::Ok();
}

struct RecordCommitOptions {
  std::string repo = ".";
  std::string rev = "HEAD";
  bool hook = false;
};

Result<std::string> Git(const std::string& repo, std::vector<std::string> args) {
  std::vector<std::string> argv = {"git", "-C", repo};
  argv.insert(argv.end(), args.begin(), args.end());
  ASSIGN_OR_RETURN(auto r, RunCapture(argv));
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : args) cmd += " " + a;
    return IOError("git" + cmd + " failed in " + repo + " (exit " + std::to_string(r.exit_code) + ")");
  }
  return r.out;
}

Status RecordCommit(Cli& cli, const RecordCommitOptions& opt) {
  ASSIGN_OR_RETURN(std::string sha, Git(opt.repo, {"rev-parse", "--verify", opt.rev + "^{commit}"}));
  ledger::Commit c;
  c.sha = Trim(sha);
  ASSIGN_OR_RETURN(std::string top, Git(opt.repo, {"rev-parse", "--show-toplevel"}));
  c.repo = Trim(top);
  if (c.repo.empty()) {
    ASSIGN_OR_RETURN(std::string gitdir, Git(opt.repo, {"rev-parse", "--absolute-git-dir"}));
    c.repo = Trim(gitdir);
  }
  auto branch = RunCapture({"git", "-C", opt.repo, "symbolic-ref", "--short", "-q", "HEAD"});
  if (branch.ok() && branch->exit_code == 0 && opt.rev == "HEAD") c.branch = Trim(branch->out);
  ASSIGN_OR_RETURN(std::string meta, Git(opt.repo, {"log", "-1", "--format=%ct%x00%an <%ae>%x00%(trailers:key=Clawback-Conversation,valueonly,separator=%x2C)%x00%B", c.sha}));
  std::vector<std::string> parts;
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    size_t z = meta.find('\0', pos);
    if (z == std::string::npos) return IOError("unexpected git log output for " + c.sha);
    parts.push_back(meta.substr(pos, z - pos));
    pos = z + 1;
  }
  // git keeps whole seconds; from the hook the commit was made just now, and the clock
  // gives the milliseconds that order it among the conversation's other records.
  c.time_ms = opt.hook ? SystemClock().NowUnixMillis() : std::atoll(parts[0].c_str()) * 1000;
  c.author = parts[1];
  std::string trailers = Trim(parts[2]);
  // The last trailer is the newest (amends by another conversation append theirs).
  c.trailer = Trim(trailers.substr(trailers.rfind(',') == std::string::npos ? 0 : trailers.rfind(',') + 1));
  while (!c.trailer.empty() && c.trailer.front() == ' ') c.trailer.erase(0, 1);
  c.message = Trim(meta.substr(pos));
  ASSIGN_OR_RETURN(std::string files,
                   Git(opt.repo, {"diff-tree", "--no-commit-id", "--name-only", "-r", "-z",
                                  "--root", c.sha}));
  for (size_t p = 0; p < files.size();) {
    size_t z = files.find('\0', p);
    if (z == std::string::npos) z = files.size();
    if (z > p) c.files.push_back(files.substr(p, z - p));
    p = z + 1;
  }

  std::string conv_text;
  if (const char* env = std::getenv("CLAWBACK_CONVERSATION_ID"); env && *env) conv_text = env;
  if (conv_text.empty()) conv_text = c.trailer;
  if (conv_text.empty()) {
    if (cli.global.verbose > 0 || !opt.hook) {
      std::fprintf(stderr,
                   "clawback: commit %s has no conversation (no Clawback-Conversation trailer, "
                   "no CLAWBACK_CONVERSATION_ID): not recorded\n",
                   c.sha.c_str());
    }
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(Uuid conv, ParseId(conv_text));
  c.conversation_id = conv;

  std::unique_ptr<SpineClient> client;
  if (!cli.ServerUrl().empty()) {
    // Short timeouts from a hook: the commit is waiting.
    ASSIGN_OR_RETURN(client, OpenServerClient(cli.ServerUrl(), opt.hook ? 1500 : 3000));
  } else {
    ASSIGN_OR_RETURN(client, OpenLedgerClient(cli));
  }
  RETURN_IF_ERROR(client->RecordCommit(c));
  if (cli.global.json) {
    std::printf("%s\n", nlohmann::json({{"sha", c.sha}, {"conversation_id", conv.ToString()},
                                        {"files", c.files}})
                            .dump()
                            .c_str());
  } else {
    std::printf("recorded commit %s for conversation %s\n", c.sha.c_str(), conv.ToString().c_str());
  }
  return Status::Ok();
}

void Register(CLI::App& app, Cli& cli) {
  auto* group = app.add_subcommand("git", "Git integration: the conversation trailer and commit recording");
  group->require_subcommand(1);

  auto repo = std::make_shared<std::string>();
  auto* install = group->add_subcommand(
      "install-hooks", "Install clawback's prepare-commit-msg, commit-msg and post-commit hooks");
  install->add_option("repo", *repo, "The repository (default: the current directory)");
  install->footer(
      "Respects core.hooksPath. An existing hook is never overwritten: it is renamed to\n"
      "<hook>.pre-clawback and runs first. Running install-hooks again updates clawback's\n"
      "hooks in place. The hooks bake in this binary's path and data dir ($CLAWBACK_BIN and\n"
      "$CLAWBACK_HOME override them) and never make a commit fail when clawback is down.\n\n"
      "Examples:\n"
      "  clawback git install-hooks ~/src/infra\n"
      "  cd ~/src/infra && clawback git install-hooks && clawback exec -- git commit -am fix");
  install->callback([&cli, repo] { cli.status = RunInstallHooks(cli, *repo); });

  auto rc = std::make_shared<RecordCommitOptions>();
  auto* record = group->add_subcommand(
      "record-commit", "Record a commit against its conversation (what the post-commit hook runs)");
  record->group("");  // hidden: the hook's entry point
  record->add_option("--repo", rc->repo, "The repository (default: the current directory)");
  record->add_option("--rev", rc->rev, "The commit (default: HEAD)");
  record->add_flag("--hook", rc->hook,
                   "Running from a hook: never fail (errors go to stderr, exit 0)");
  record->callback([&cli, rc] {
    Status s = RecordCommit(cli, *rc);
    if (!s.ok() && rc->hook) {
      std::fprintf(stderr, "clawback: post-commit: %s\n", s.ToString().c_str());
      s = Status::Ok();
    }
    cli.status = s;
  });
}

CLAWBACK_REGISTER_COMMAND(70, Register);

}  // namespace
}  // namespace clawback::cli
