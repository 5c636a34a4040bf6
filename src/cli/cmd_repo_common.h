// What every repository command shares: the --repo / --password-file flags and their
// environment and config fallbacks, opening the repository, the progress line, and
// recording snapshots in the ledger.
//
// Repository:  --repo URL, else $CLAWBACK_REPOSITORY, else the data dir's config
//              (Config::RepositoryUrl(): [repository] url, default <data dir>/repo).
// Password:    --password-file F, else $CLAWBACK_PASSWORD_FILE, else $CLAWBACK_PASSWORD,
//              else the config's password file (default <data dir>/repo-password). Leading
//              and trailing white space of a password file is ignored (as restic does).
// A wrong password exits 12 (WrongPassword); a missing repository exits 6.
//
// Thread-safety: used by one command invocation at a time; ProgressLine runs its own
// printer thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "store/backend/backend.h"
#include "store/repository.h"
#include "service/snapshots.h"

namespace clawback::cli {

struct RepoFlags {
  std::string repo;
  std::string password_file;
};

// Adds --repo and --password-file to `cmd`.
void AddRepoFlags(CLI::App* cmd, RepoFlags* flags);

struct OpenedRepo {
  std::string url;
  store::BackendPtr backend;
  std::unique_ptr<store::Repository> repo;
};

// A password file's contents without surrounding white space (as restic reads it).
Result<std::string> ReadPasswordFile(const std::string& path);

// The effective repository URL and password.
Result<std::string> ResolveRepoUrl(const Cli& cli, const RepoFlags& flags);
// *source (when given) says where the password came from, for error messages:
// "--password-file /x", "$CLAWBACK_PASSWORD_FILE (/x)", "$CLAWBACK_PASSWORD", or
// "the data dir's password file /d/repo-password".
Result<std::string> ResolvePassword(const Cli& cli, const RepoFlags& flags,
                                    std::string* source = nullptr);

// Opens the repository; with `load_index`, also reads every index file.
Result<OpenedRepo> OpenRepo(const Cli& cli, const RepoFlags& flags, bool load_index);

// Prints "\r<line>" on stderr every 250 ms while alive, when stderr is a terminal; with
// --json prints `status` JSON lines on stdout every second instead. `render` is called
// on the printer thread and must be thread-safe.
class ProgressLine {
 public:
  ProgressLine(const Cli& cli, std::function<std::string()> render,
               std::function<nlohmann::json()> status_json);
  ~ProgressLine();  // stops and clears the line
  void Stop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool tty_ = false;
  bool json_ = false;
  std::thread thread_;
  std::function<std::string()> render_;
  std::function<nlohmann::json()> status_json_;
};

// "1.5 GiB", "12.0 MiB", "532 B"
std::string HumanBytes(uint64_t n);
// "1m05s", "3.2s"
std::string HumanDuration(double seconds);

// Tag values as restic takes them (service/snapshots.h).
using service::ValidateTag;

// Prints a JSON document on stdout (one line).
void PrintJson(const nlohmann::json& j);

}  // namespace clawback::cli
