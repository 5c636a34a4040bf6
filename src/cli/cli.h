// The command-line front end. Each command group lives in its own cmd_<verb>.cc and
// registers itself with CLAWBACK_REGISTER_COMMAND; main() builds the CLI11 app from the
// registry, parses, runs the chosen command and maps its Status to an exit code through
// ExitCodeFor() (docs/error-policy.md has the table).
//
// A command's callback stores its Status in Cli::status; it never calls exit().
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace clawback::cli {

// Options every command understands.
struct GlobalOptions {
  std::string data_dir;  // --data-dir; resolve with DataDir()
  bool json = false;     // --json: machine-readable output on stdout
  int verbose = 0;       // -v, -vv
  std::string server;    // --server URL or $CLAWBACK_SERVER: work through a running server
};

struct Cli {
  GlobalOptions global;
  Status status;  // set by the command that ran
  // Set by a command whose exit code is not a Status (`exec` passes on its child's); used
  // when `status` is OK.
  std::optional<int> exit_code;

  std::string DataDir() const { return ResolveDataDir(global.data_dir); }
  std::string ConfigPath() const { return DataDir() + "/config.toml"; }
  // The config of the data dir; defaults when the file does not exist.
  Result<Config> LoadConfig() const;
  // The server URL from --server or $CLAWBACK_SERVER, or empty.
  std::string ServerUrl() const;
};

using CommandRegistrar = std::function<void(CLI::App& app, Cli& cli)>;

// Adds a registrar; `order` sorts the commands in --help (lower first).
bool RegisterCommand(int order, CommandRegistrar registrar);
const std::vector<std::pair<int, CommandRegistrar>>& RegisteredCommands();

// Builds the whole command tree on `app` (global options, every registered command).
// Every repeatable option takes one value per occurrence, as restic's do: `--tag a --tag b`,
// never `--tag a b` (which would swallow the positional `b`).
void BuildApp(CLI::App& app, Cli& cli);

// Checks the command words of `args` (argv without the program name) against `app`'s
// tree before CLI11 parses them: an unknown command is InvalidArgument naming it and the
// nearest known one ("unknown command \"snapshto\" (did you mean snapshot?)"), also when
// --help follows it.
Status CheckCommandWords(const CLI::App& app, const std::vector<std::string>& args);

// Prints a CLI11 usage error as "clawback: <command path>: <what>" with a pointer to the
// command's --help, on stderr.
void PrintUsageError(const CLI::App& app, const std::string& what);

// Runs the whole CLI; returns the process exit code.
int Main(int argc, char** argv);

// Prints "clawback: <message>" on stderr (and a hint line when `hint` is set).
void PrintError(const Status& status, const std::string& hint = "");

}  // namespace clawback::cli

#define CLAWBACK_REGISTER_COMMAND(order, fn) \
  static const bool CLAWBACK_CONCAT_(kRegistered_, __LINE__) = ::clawback::cli::RegisterCommand(order, fn)
