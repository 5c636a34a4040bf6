#include "cli/cli.h"

#include "timemachine/environment.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sys/stat.h>

#include "common/suggest.h"
#include "common/version.h"

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
  ASSIGN_OR_RETURN(Config config, Config::Load(path, DataDir()));
  // A bad environment is refused by every command, not only the one that would use it.
  RETURN_IF_ERROR(timemachine::LoadEnvironments(config).status());
  return config;
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

namespace {

// A repeatable option (a vector) takes one value per occurrence; CLI11's default lets it
// take every following word that is not an option, positionals included.
void OneValuePerOccurrence(CLI::App* app) {
  for (CLI::Option* opt : app->get_options()) {
    if (!opt->get_positional() && opt->get_allow_extra_args()) opt->allow_extra_args(false);
  }
  for (CLI::App* sub : app->get_subcommands({})) OneValuePerOccurrence(sub);
}

// The option named by `arg` ("--tag", "--tag=x", "-a") on `app` or, since options fall
// through, on its parents.
const CLI::Option* FindOption(const CLI::App* app, const std::string& arg) {
  std::string name = arg.substr(0, arg.find('='));
  for (const CLI::App* a = app; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* opt : a->get_options()) {
      if (!opt->get_positional() && opt->check_name(name)) return opt;
    }
  }
  return nullptr;
}

// "clawback ledger" for the ledger command group.
std::string CommandPath(const CLI::App* app) {
  std::string path;
  for (const CLI::App* a = app; a != nullptr; a = a->get_parent())
    path = a->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

}  // namespace

void PrintUsageError(const CLI::App& app, const std::string& what) {
  // The deepest command the words reached.
  const CLI::App* cmd = &app;
  for (bool deeper = true; deeper;) {
    deeper = false;
    for (const CLI::App* sub : cmd->get_subcommands([](const CLI::App* a) { return a->parsed(); })) {
      cmd = sub;
      deeper = true;
      break;
    }
  }
  std::string msg = what;
  if (msg == "A subcommand is required") {
    msg = "a subcommand is required:";
    for (const CLI::App* sub : cmd->get_subcommands([](const CLI::App* a) { return !a->get_name().empty(); }))
      msg += " " + sub->get_name();
  }
  std::string path = CommandPath(cmd);
  std::fprintf(stderr, "%s: %s\nRun `%s --help` for its options and examples.\n", path.c_str(),
               msg.c_str(), path.c_str());
}

Status CheckCommandWords(const CLI::App& app, const std::vector<std::string>& args) {
  const CLI::App* current = &app;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") break;
    if (arg.size() > 1 && arg[0] == '-') {
      const CLI::Option* opt = FindOption(current, arg);
      // An option that takes a value and has none attached consumes the next word.
      if (opt && opt->get_type_size_max() > 0 && opt->get_expected_max() > 0 &&
          arg.find('=') == std::string::npos &&
          !(arg.size() > 2 && arg[1] != '-'))
        ++i;
      continue;
    }
    std::vector<std::string> names;
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : current->get_subcommands(
             [](const CLI::App* a) { return !a->get_name().empty(); })) {
      names.push_back(sub->get_name());
      for (const auto& alias : sub->get_aliases()) names.push_back(alias);
      if (sub->check_name(arg)) next = sub;
    }
    if (names.empty()) return Status::Ok();  // a leaf command: the rest is its business
    if (next) {
      current = next;
      continue;
    }
    bool takes_positionals = false;
    for (const CLI::Option* opt : current->get_options())
      if (opt->get_positional()) takes_positionals = true;
    if (takes_positionals) return Status::Ok();
    std::string hint = DidYouMean(arg, names);
    // What restic and git users type out of habit.
    static const std::vector<std::pair<std::string, std::string>> kHabits = {
        {"backup", "snapshot"}, {"log", "trace"}, {"status", "conversation list"},
        {"rollback", "restore (`clawback snapshots --tag conversation=ID` finds the snapshot)"}};
    if (current == &app && hint.empty())
      for (const auto& [habit, ours] : kHabits)
        if (arg == habit) hint = " (clawback's word for it is " + ours + ")";
    std::string group = CommandPath(current);
    std::string word = current == &app ? arg : group.substr(group.find(' ') + 1) + " " + arg;
    return InvalidArgument("unknown command \"" + word + "\"" + hint + "; `" + group +
                           " --help` lists the commands");
  }
  return Status::Ok();
}

void BuildApp(CLI::App& app, Cli& cli) {
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("clawback ") + kVersion + " (" + kGitCommit + ")",
                       "Print the version and exit");
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
  OneValuePerOccurrence(&app);
}

int Main(int argc, char** argv) {
  Cli cli;
  CLI::App app{
      "clawback — the flight recorder and undo button for AI-operated systems.\n"
      "Every agent conversation gets an id; everything it changes is recorded against it,\n"
      "snapshotted, traceable and undoable.",
      "clawback"};
  BuildApp(app, cli);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {  // as git does: what there is to type, and a usage exit code
    std::fputs(app.help().c_str(), stdout);
    return 2;
  }
  if (Status words = CheckCommandWords(app, args); !words.ok()) {
    PrintError(words);
    return ExitCodeFor(words.code());
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with code 0: CLI11 prints them.
    if (e.get_exit_code() == 0) return app.exit(e);
    // Usage errors say which command they are about, like every other error, and exit 2.
    PrintUsageError(app, e.what());
    return 2;
  }
  if (!cli.status.ok()) {
    PrintError(cli.status);
    return ExitCodeFor(cli.status.code());
  }
  return cli.exit_code.value_or(0);
}

}  // namespace clawback::cli
