// `clawback init`: creates a data dir — its commented config, the ledger, and the
// repository's password file (init_repository.h) — and prints the next steps.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/init_repository.h"
#include "ledger/ledger.h"

namespace clawback::cli {
namespace {

struct InitOptions {
  std::string repo;
  std::string password_file;
};

// A TOML basic string's contents (the template adds the quotes).
std::string TomlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
  return out;
}

// Relative local paths on the command line mean the current directory, not the data dir.
std::string Absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

bool IsLocalRepo(const std::string& url) {
  return url.find("://") == std::string::npos && url.rfind("s3:", 0) != 0 &&
         url.rfind("rest:", 0) != 0 && url.rfind("local:", 0) != 0;
}

// mkdir -p; the last component is created with `mode`.
Status MakeDirs(const std::string& dir, mode_t mode) {
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    partial = dir.substr(0, pos);
    if (partial.empty()) continue;
    bool last = pos == std::string::npos;
    if (::mkdir(partial.c_str(), last ? mode : 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus("create directory " + partial, errno);
    }
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus("stat " + dir, errno);
  if (!S_ISDIR(st.st_mode)) return AlreadyExists(dir + " exists and is not a directory");
  return Status::Ok();
}

Status WriteNewFile(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return AlreadyExists(path + " exists");
    return ErrnoStatus("create " + path, errno);
  }
  ssize_t n = ::write(fd, text.data(), text.size());
  int e = errno;
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()) || !synced) {
    ::unlink(path.c_str());
    return ErrnoStatus("write " + path, n < 0 ? e : EIO);
  }
  return Status::Ok();
}

Status RunInit(Cli& cli, const InitOptions& opt) {
  std::string dir = Absolute(cli.DataDir());
  std::string config_path = dir + "/config.toml";
  struct stat st;
  if (::stat(config_path.c_str(), &st) == 0) {
    return AlreadyExists(config_path +
                         " exists: this data dir is initialised already; clawback init never "
                         "overwrites a config (edit it, or choose another --data-dir)");
  }
  bool existed = ::stat(dir.c_str(), &st) == 0;
  RETURN_IF_ERROR(MakeDirs(dir, 0700));
  if (!existed && ::chmod(dir.c_str(), 0700) != 0) return ErrnoStatus("chmod " + dir, errno);

  std::string repo = IsLocalRepo(opt.repo) ? Absolute(opt.repo) : opt.repo;
  std::string password_file = Absolute(opt.password_file);
  std::string text = DefaultConfigText(TomlEscape(repo), TomlEscape(password_file));
  // Validate what we are about to write, so a config init wrote always loads.
  ASSIGN_OR_RETURN(Config config, Config::Parse(text, config_path, dir));
  RETURN_IF_ERROR(WriteNewFile(config_path, text, 0600));

  // The ledger: created and migrated now, so the first event never waits for it.
  auto ledger = ledger::OpenLedger(config.LedgerUrl());
  Status ledger_status = ledger.ok() ? (*ledger)->Migrate() : ledger.status();
  if (!ledger_status.ok()) {
    ::unlink(config_path.c_str());  // leave nothing half-initialised behind
    return ledger_status.WithContext("create the ledger " + config.LedgerUrl());
  }
  auto version = (*ledger)->SchemaVersion();

  RepositoryInitReport repo_report;
  RETURN_IF_ERROR(InitRepositoryForDataDir(config, &repo_report));

  if (cli.global.json) {
    nlohmann::json j = {{"data_dir", dir},
                        {"config", config_path},
                        {"ledger", config.LedgerUrl()},
                        {"ledger_backend", (*ledger)->backend()},
                        {"schema_version", version.ok() ? nlohmann::json(*version) : nullptr},
                        {"repository", repo_report.url},
                        {"password_file", repo_report.password_file},
                        {"password_generated", repo_report.password_generated},
                        {"repository_created", repo_report.repository_created},
                        {"next_steps", repo_report.next_steps}};
    std::printf("%s\n", j.dump().c_str());
    return Status::Ok();
  }
  std::string data_flag = cli.global.data_dir.empty() ? "" : " --data-dir " + dir;
  std::printf("Initialised clawback in %s\n", dir.c_str());
  std::printf("  config        %s\n", config_path.c_str());
  std::printf("  ledger        %s (%s, schema %s)\n", config.LedgerUrl().c_str(),
              std::string((*ledger)->backend()).c_str(),
              version.ok() ? std::to_string(*version).c_str() : "?");
  std::printf("  repository    %s%s\n", repo_report.url.c_str(),
              repo_report.repository_created ? " (created, restic format v2)" : "");
  std::printf("  password file %s%s\n", repo_report.password_file.c_str(),
              repo_report.password_generated ? " (generated, mode 0600)" : "");
  std::printf("\nLosing %s loses the backups: keep a copy somewhere safe, off this machine.\n",
              repo_report.password_file.c_str());
  std::printf("\nNext steps:\n");
  std::printf("  clawback%s token create --role admin --name me   # an API token, shown once\n",
              data_flag.c_str());
  std::printf("  clawback%s serve                                 # listen on %s\n",
              data_flag.c_str(), config.server.listen.c_str());
  std::printf("  clawback%s git install-hooks ~/src/myrepo        # trailer + commit recording\n",
              data_flag.c_str());
  std::printf("  clawback%s exec -- make deploy                   # run and record a command\n",
              data_flag.c_str());
  for (const auto& line : repo_report.next_steps) std::printf("  %s\n", line.c_str());
  return Status::Ok();
}

void Register(CLI::App& app, Cli& cli) {
  auto opt = std::make_shared<InitOptions>();
  auto* cmd = app.add_subcommand("init", "Create a data dir: config, ledger, snapshot repository and its password");
  cmd->add_option("--repo", opt->repo,
                  "Snapshot repository: a path, or s3:https://HOST/BUCKET[/PREFIX] "
                  "(default: <data dir>/repo)");
  cmd->add_option("--password-file", opt->password_file,
                  "File holding the repository password; generated (0600) when missing "
                  "(default: <data dir>/repo-password)");
  cmd->footer(
      "Creates the data dir (mode 0700; --data-dir, else $CLAWBACK_HOME, else\n"
      "~/.local/share/clawback) with a commented config.toml, creates and migrates the ledger\n"
      "(SQLite ledger.db unless the config names PostgreSQL) and makes sure the repository\n"
      "password file exists. An existing config is never overwritten (exit 4).\n\n"
      "Examples:\n"
      "  clawback init\n"
      "  clawback --data-dir /srv/clawback init --repo /backups/clawback\n"
      "  clawback init --repo s3:https://minio.local:9000/clawback --password-file ~/.clawback-pw");
  cmd->callback([&cli, opt] { cli.status = RunInit(cli, *opt); });
}

CLAWBACK_REGISTER_COMMAND(10, Register);

}  // namespace
}  // namespace clawback::cli
