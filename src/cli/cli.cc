#include "cli/cli.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sys/stat.h>

namespace clawback::cli {
namespace {

std::vector<std::pair<int, CommandRegistrar>>& Registry() {
  static std::vector<std::pair<int, CommandRegistrar>> r;
  return r;
}

}  // namespace

bool RegisterCommand(int order, CommandRegistrar registrar) {
  Registry().emplace_back(order, std::move(registrar));
  return true;
}

const std::vector<std::pair<int, CommandRegistrar>>& RegisteredCommands() { return Registry(); }

Result<Config> Cli::LoadConfig() const {
  std::string path = ConfigPath();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Config::Defaults(DataDir());
  return Config::Load(path, DataDir());
}

std::string Cli::ServerUrl() const {
  if (!global.server.empty()) return global.server;
  if (const char* s = std::getenv("CLAWBACK_SERVER"); s && *s) return s;
  return "";
}

void PrintError(const Status& status, const std::string& hint) {
  std::fprintf(stderr, "clawback: %s\n", status.ToString().c_str());
  if (!hint.empty()) std::fprintf(stderr, "hint: %s\n", hint.c_str());
}

int Main(int argc, char** argv) {
  Cli cli;
  CLI::App app{
      "clawback — the flight recorder and undo button for AI-operated systems.\n"
      "Every agent conversation gets an id; everything it changes is recorded against it,\n"
      "snapshotted, traceable and undoable.",
      "clawback"};
  app.require_subcommand(1);
  app.fallthrough();
  app.option_defaults()->always_capture_default();
  app.add_option("--data-dir", cli.global.data_dir,
                 "Data directory (default: $CLAWBACK_HOME, else ~/.local/share/clawback)");
  app.add_flag("--json", cli.global.json, "Machine-readable JSON output on stdout");
  app.add_flag("-v,--verbose", cli.global.verbose, "More detail on stderr (repeat for more)");
  app.add_option("--server", cli.global.server,
                 "Work through a running `clawback serve` at this URL (or $CLAWBACK_SERVER)");
  app.footer(
      "Exit codes: 0 ok, 1 failure, 2 bad usage or input, 3 not found, 4 already exists,\n"
      "5 unauthenticated/forbidden, 6 precondition (e.g. not initialised), 7 peer unavailable,\n"
      "8 corruption detected, 11 locked, 12 wrong repository password, 130 interrupted.\n"
      "Run `clawback COMMAND --help` for each command's options and examples.");

  auto regs = Registry();
  std::stable_sort(regs.begin(), regs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [order, reg] : regs) reg(app, cli);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    // CLI11 uses its own codes for usage errors; ours is 2 (help and version are 0).
    return code == 0 ? 0 : 2;
  }
  if (!cli.status.ok()) {
    PrintError(cli.status);
    return ExitCodeFor(cli.status.code());
  }
  return cli.exit_code.value_or(0);
}

}  // namespace clawback::cli
