#include "cli/cmd_repo_common.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace clawback::cli {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string TrimSpace(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n\v\f");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n\v\f");
  return s.substr(b, e - b + 1);
}

}  // namespace

Result<std::string> ReadPasswordFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("read password file " + path, errno);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > 65536) break;
  }
  ::close(fd);
  return TrimSpace(out);
}

void AddRepoFlags(CLI::App* cmd, RepoFlags* flags) {
  cmd->add_option("--repo,-r", flags->repo,
                  "Repository: a path or s3:https://HOST/BUCKET[/PREFIX] (or $CLAWBACK_REPOSITORY; "
                  "default: the data dir's configured repository)");
  cmd->add_option("--password-file", flags->password_file,
                  "File holding the repository password (or $CLAWBACK_PASSWORD_FILE, "
                  "$CLAWBACK_PASSWORD; default: the data dir's repo-password)");
}

Result<std::string> ResolveRepoUrl(const Cli& cli, const RepoFlags& flags) {
  if (!flags.repo.empty()) return flags.repo;
  if (std::string e = Env("CLAWBACK_REPOSITORY"); !e.empty()) return e;
  ASSIGN_OR_RETURN(Config config, cli.LoadConfig());
  return config.RepositoryUrl();
}

Result<std::string> ResolvePassword(const Cli& cli, const RepoFlags& flags, std::string* source) {
  std::string file = flags.password_file;
  std::string from;
  if (!file.empty()) {
    from = "--password-file " + file;
  } else if (file = Env("CLAWBACK_PASSWORD_FILE"); !file.empty()) {
    from = "$CLAWBACK_PASSWORD_FILE (" + file + ")";
  } else {
    if (const char* p = std::getenv("CLAWBACK_PASSWORD"); p != nullptr) {
      if (source) *source = "$CLAWBACK_PASSWORD";
      return std::string(p);
    }
    ASSIGN_OR_RETURN(Config config, cli.LoadConfig());
    file = config.RepositoryPasswordFile();
    from = (config.repository.password_file.empty() ? "the data dir's password file "
                                                    : "the password file ") +
           file + (config.repository.password_file.empty() ? "" : " ([repository] password_file)");
  }
  if (source) *source = from;
  auto pw = ReadPasswordFile(file);
  if (!pw.ok()) {
    if (pw.status().code() == StatusCode::kNotFound) {
      return FailedPrecondition("no repository password: " + file +
                                " does not exist (give --password-file, $CLAWBACK_PASSWORD_FILE "
                                "or $CLAWBACK_PASSWORD, or run `clawback init`)");
    }
    return pw.status();
  }
  if (pw->empty()) return InvalidArgument("the password file " + file + " is empty");
  return pw;
}

Result<OpenedRepo> OpenRepo(const Cli& cli, const RepoFlags& flags, bool load_index) {
  OpenedRepo o;
  ASSIGN_OR_RETURN(o.url, ResolveRepoUrl(cli, flags));
  std::string source;
  ASSIGN_OR_RETURN(std::string password, ResolvePassword(cli, flags, &source));
  ASSIGN_OR_RETURN(o.backend, store::OpenBackend(o.url));
  auto exists = o.backend->Exists();
  if (!exists.ok()) return exists.status().WithContext("repository " + o.url);
  if (!*exists) {
    return FailedPrecondition("there is no repository at " + o.url +
                              " (create one with `clawback repo init`)");
  }
  auto repo = store::Repository::Open(o.backend.get(), password);
  if (!repo.ok()) {
    if (repo.status().code() == StatusCode::kWrongPassword) {
      return WrongPassword("wrong password for the repository at " + o.url +
                           ": no key file opens with the password from " + source);
    }
    return repo.status().WithContext("open repository " + o.url);
  }
  o.repo = std::move(*repo);
  if (load_index) RETURN_IF_ERROR(o.repo->LoadIndex());
  return o;
}

ProgressLine::ProgressLine(const Cli& cli, std::function<std::string()> render,
                           std::function<nlohmann::json()> status_json)
    : render_(std::move(render)), status_json_(std::move(status_json)) {
  json_ = cli.global.json && status_json_ != nullptr;
  tty_ = !json_ && isatty(STDERR_FILENO) && render_ != nullptr;
  if (!tty_ && !json_) return;
  thread_ = std::thread([this] {
    auto period = std::chrono::milliseconds(json_ ? 1000 : 250);
    std::unique_lock<std::mutex> l(mu_);
    while (!cv_.wait_for(l, period, [this] { return stop_; })) {
      if (json_) {
        std::printf("%s\n", status_json_().dump().c_str());
        std::fflush(stdout);
      } else {
        std::string line = render_();
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
        std::fflush(stderr);
      }
    }
  });
}

void ProgressLine::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (tty_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

ProgressLine::~ProgressLine() { Stop(); }

std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  }
  return buf;
}

std::string HumanDuration(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else {
    int total = static_cast<int>(s);
    std::snprintf(buf, sizeof buf, "%dm%02ds", total / 60, total % 60);
  }
  return buf;
}

void PrintJson(const nlohmann::json& j) {
  std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

}  // namespace clawback::cli
