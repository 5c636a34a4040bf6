// Issue 12, items 1 and 8: every option of every command takes one value per occurrence
// (`snapshot --tag foo /dir` backed up nothing; `snapshot /a --tag foo /b` tagged the
// snapshot "/b"), and unknown command words are named.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/cli.h"

namespace clawback::cli {
namespace {

std::unique_ptr<CLI::App> NewApp(Cli* cli) {
  auto app = std::make_unique<CLI::App>("clawback", "clawback");
  BuildApp(*app, *cli);
  // Parse only: an option the tests never give is required at the top, so every parse
  // stops with RequiredError after placing the words and storing the values, before any
  // command's callback runs (the callbacks own the values' storage, so they must stay).
  app->add_option("--never-given-in-tests")->required();
  return app;
}

CLI::App* Find(CLI::App* app, const std::vector<std::string>& path) {
  for (const auto& name : path) app = app->get_subcommand(name);
  return app;
}

std::string NameOf(const CLI::Option* opt) {
  if (!opt->get_lnames().empty()) return "--" + opt->get_lnames().front();
  return "-" + opt->get_snames().front();
}

struct Case {
  std::vector<std::string> path;  // command words
  std::string option;             // "--tag"
};

void Collect(CLI::App* app, std::vector<std::string> path, std::vector<Case>* out) {
  for (CLI::Option* opt : app->get_options()) {
    if (opt->get_positional() || opt->get_type_size_max() == 0 || opt->get_expected_max() == 0)
      continue;  // flags
    if (opt == app->get_help_ptr() || opt == app->get_help_all_ptr()) continue;
    out->push_back({path, NameOf(opt)});
  }
  for (CLI::App* sub : app->get_subcommands({})) {
    auto p = path;
    p.push_back(sub->get_name());
    Collect(sub, p, out);
  }
}

std::vector<std::string> PositionalResults(CLI::App* app) {
  std::vector<std::string> all;
  for (CLI::Option* opt : app->get_options())
    if (opt->get_positional())
      for (const auto& r : opt->results()) all.push_back(r);
  return all;
}

bool HasPositional(CLI::App* app, bool repeatable) {
  for (CLI::Option* opt : app->get_options())
    if (opt->get_positional() && (!repeatable || opt->get_expected_max() > 1)) return true;
  return false;
}

// Parses `args`; errors after the words are placed (a required option missing, a value a
// validator rejects) are expected here and do not matter.
void Parse(CLI::App* app, std::vector<std::string> args) {
  std::vector<const char*> argv = {"clawback"};
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app->parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError&) {
  }
}

TEST(CliOptions, AnOptionFollowedByAPositionalLeavesThePositionalAlone) {
  Cli probe;
  auto root = NewApp(&probe);
  std::vector<Case> cases;
  Collect(root.get(), {}, &cases);
  ASSERT_GT(cases.size(), 50u);
  int with_positional = 0, with_two = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.path) + " " + c.option);
    Cli cli;
    auto app = NewApp(&cli);
    CLI::App* cmd = Find(app.get(), c.path);
    std::vector<std::string> args = c.path;
    args.insert(args.end(), {c.option, "v1", "POSITIONAL"});
    Parse(app.get(), args);
    const CLI::Option* opt = cmd->get_option(c.option);
    EXPECT_EQ(opt->results(), std::vector<std::string>{"v1"});
    if (HasPositional(cmd, false)) {
      ++with_positional;
      auto pos = PositionalResults(cmd);
      EXPECT_NE(std::find(pos.begin(), pos.end(), "POSITIONAL"), pos.end());
    }
    // `cmd A --opt v B`: both A and B are positionals.
    if (HasPositional(cmd, true)) {
      ++with_two;
      Cli cli2;
      auto app2 = NewApp(&cli2);
      CLI::App* cmd2 = Find(app2.get(), c.path);
      std::vector<std::string> args2 = c.path;
      args2.insert(args2.end(), {"FIRST", c.option, "v1", "SECOND"});
      Parse(app2.get(), args2);
      EXPECT_EQ(cmd2->get_option(c.option)->results(), std::vector<std::string>{"v1"});
      auto pos = PositionalResults(cmd2);
      EXPECT_NE(std::find(pos.begin(), pos.end(), "FIRST"), pos.end());
      EXPECT_NE(std::find(pos.begin(), pos.end(), "SECOND"), pos.end());
    }
  }
  // The walk must reach the commands the issue names.
  EXPECT_GT(with_positional, 20);
  EXPECT_GT(with_two, 5);
}

TEST(CliOptions, RepeatedOptionsCollectEveryValue) {
  Cli cli;
  auto app = NewApp(&cli);
  Parse(app.get(), {"snapshot", "/a", "--tag", "foo", "/b", "--tag", "env=prod", "--exclude", "*.tmp", "/c"});
  CLI::App* snap = app->get_subcommand("snapshot");
  EXPECT_EQ(snap->get_option("--tag")->results(), (std::vector<std::string>{"foo", "env=prod"}));
  EXPECT_EQ(snap->get_option("--exclude")->results(), std::vector<std::string>{"*.tmp"});
  EXPECT_EQ(PositionalResults(snap), (std::vector<std::string>{"/a", "/b", "/c"}));

  Cli cli2;
  auto app2 = NewApp(&cli2);
  Parse(app2.get(), {"record", "note", "-a", "k=v", "--attr", "x=y"});
  EXPECT_EQ(app2->get_subcommand("record")->get_option("--attr")->results(),
            (std::vector<std::string>{"k=v", "x=y"}));
}

TEST(CliCommands, UnknownCommandWordsAreNamed) {
  Cli cli;
  auto app = NewApp(&cli);
  Status st = CheckCommandWords(*app, {"frobnicate"});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("unknown command \"frobnicate\""), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("clawback --help"), std::string::npos) << st.message();

  // --help after an unknown word is still an error, not the top-level help.
  EXPECT_FALSE(CheckCommandWords(*app, {"frobnicate", "--help"}).ok());

  st = CheckCommandWords(*app, {"snapshto", "/etc"});
  EXPECT_NE(st.message().find("(did you mean snapshot?)"), std::string::npos) << st.message();

  st = CheckCommandWords(*app, {"--data-dir", "/tmp/x", "ledger", "verfy"});
  EXPECT_NE(st.message().find("unknown command \"ledger verfy\" (did you mean verify?)"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("clawback ledger --help"), std::string::npos) << st.message();

  // Known words, option values that look like words, and positionals pass.
  EXPECT_TRUE(CheckCommandWords(*app, {"--data-dir", "snapshot", "snapshots", "--json"}).ok());
  EXPECT_TRUE(CheckCommandWords(*app, {"snapshot", "--tag", "foo", "/etc"}).ok());
  EXPECT_TRUE(CheckCommandWords(*app, {"conv", "list"}).ok());
  EXPECT_TRUE(CheckCommandWords(*app, {"exec", "--", "frobnicate"}).ok());
  EXPECT_TRUE(CheckCommandWords(*app, {"--help"}).ok());
  // Flags take no value: the word after one is the command.
  EXPECT_TRUE(CheckCommandWords(*app, {"--json", "token", "list"}).ok());
  EXPECT_TRUE(CheckCommandWords(*app, {"-v", "snapshots"}).ok());
  EXPECT_FALSE(CheckCommandWords(*app, {"--json", "tokn", "list"}).ok());
}

}  // namespace
}  // namespace clawback::cli
