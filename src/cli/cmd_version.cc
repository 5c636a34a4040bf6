// `clawback version`: the build's version, as text or JSON.
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "common/version.h"

namespace clawback::cli {
namespace {

void Register(CLI::App& app, Cli& cli) {
  auto* cmd = app.add_subcommand("version", "Print clawback's version and build information");
  cmd->callback([&cli] {
    if (cli.global.json) {
      nlohmann::json j = {{"version", kVersion}, {"git_commit", kGitCommit},
                          {"build_type", kBuildType}};
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("clawback %s (%s, %s)\n", kVersion, kGitCommit, kBuildType);
    }
  });
}

CLAWBACK_REGISTER_COMMAND(990, Register);

}  // namespace
}  // namespace clawback::cli
