// `clawback env list|show NAME|check NAME`: the environments config.toml declares for the
// time machine ([environments.NAME], docs/environments.md) — what each manages, and whether
// it can be managed right now.
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "timemachine/env_check.h"
#include "timemachine/environment.h"

namespace clawback::cli {
namespace {

using nlohmann::json;
using timemachine::Environment;

Result<std::vector<Environment>> Environments(const Cli& cli) {
  ASSIGN_OR_RETURN(Config config, cli.LoadConfig());
  return timemachine::LoadEnvironments(config);
}

json ToJson(const Environment& e) {
  json dumps = json::array();
  for (const auto& d : e.dumps) dumps.push_back({{"name", d.name}, {"dump", d.dump}, {"load", d.load}});
  json health = json::array();
  for (const auto& h : e.health) {
    json j = {{"timeout_ms", h.timeout_ms}, {"interval_ms", h.interval_ms}, {"passes", h.passes}};
    if (!h.http.empty()) {
      j["http"] = h.http;
      j["expect"] = h.expect;
    } else {
      j["command"] = h.command;
    }
    health.push_back(std::move(j));
  }
  return {{"name", e.name},
          {"paths", e.paths},
          {"exclude", e.exclude},
          {"git", e.git},
          {"dumps", dumps},
          {"deploy", e.deploy.empty() ? json(nullptr) : json(e.deploy)},
          {"health", health},
          {"protect_agents", e.all_agents ? json("all") : json(e.protect_agents)},
          {"dump_on_pre", e.dump_on_pre}};
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "-" : out;
}

Status RunList(Cli& cli) {
  ASSIGN_OR_RETURN(auto envs, Environments(cli));
  if (cli.global.json) {
    json out = json::array();
    for (const auto& e : envs) out.push_back(ToJson(e));
    std::printf("%s\n", out.dump().c_str());
    return Status::Ok();
  }
  if (envs.empty()) {
    std::printf(
        "No environments. Declare one in %s, e.g.\n\n"
        "  [environments.prod]\n"
        "  paths  = [\"/srv/app/config\"]\n"
        "  deploy = \"systemctl restart app\"\n"
        "  health = [{ http = \"http://127.0.0.1:8080/health\" }]\n\n"
        "then `clawback env check prod`. See docs/environments.md.\n",
        cli.ConfigPath().c_str());
    return Status::Ok();
  }
  size_t w = 4;
  for (const auto& e : envs) w = std::max(w, e.name.size());
  std::printf("%-*s  %-5s  %-3s  %-5s  %-6s  %-6s  %s\n", static_cast<int>(w), "NAME", "PATHS", "GIT",
              "DUMPS", "DEPLOY", "HEALTH", "ROOTS");
  for (const auto& e : envs) {
    std::printf("%-*s  %-5zu  %-3zu  %-5zu  %-6s  %-6zu  %s\n", static_cast<int>(w), e.name.c_str(),
                e.paths.size(), e.git.size(), e.dumps.size(), e.deploy.empty() ? "no" : "yes",
                e.health.size(), Joined(e.Roots()).c_str());
  }
  return Status::Ok();
}

Status RunShow(Cli& cli, const std::string& name) {
  ASSIGN_OR_RETURN(auto envs, Environments(cli));
  ASSIGN_OR_RETURN(Environment e, timemachine::FindEnvironment(envs, name));
  if (cli.global.json) {
    std::printf("%s\n", ToJson(e).dump(2).c_str());
    return Status::Ok();
  }
  std::printf("Environment %s\n", e.name.c_str());
  std::printf("  paths:          %s\n", Joined(e.paths).c_str());
  std::printf("  exclude:        %s\n", Joined(e.exclude).c_str());
  std::printf("  git:            %s\n", Joined(e.git).c_str());
  if (e.dumps.empty()) std::printf("  dumps:          -\n");
  for (const auto& d : e.dumps)
    std::printf("  dump %-10s dump: %s\n                  load: %s\n", (d.name + ":").c_str(),
                d.dump.c_str(), d.load.c_str());
  std::printf("  deploy:         %s\n", e.deploy.empty() ? "- (nothing to run after a restore)" : e.deploy.c_str());
  if (e.health.empty()) std::printf("  health:         - (no check: a rollback cannot tell a bad state)\n");
  for (const auto& h : e.health)
    std::printf("  health:         %s (timeout %lld ms, every %lld ms, %d in a row)\n",
                h.Describe().c_str(), static_cast<long long>(h.timeout_ms),
                static_cast<long long>(h.interval_ms), h.passes);
  std::printf("  protect_agents: %s\n", e.all_agents ? "all" : Joined(e.protect_agents).c_str());
  std::printf("  dump_on_pre:    %s\n", e.dump_on_pre ? "true" : "false");
  return Status::Ok();
}

Status RunCheck(Cli& cli, const std::string& name) {
  ASSIGN_OR_RETURN(auto envs, Environments(cli));
  ASSIGN_OR_RETURN(Environment e, timemachine::FindEnvironment(envs, name));
  timemachine::EnvCheck c = timemachine::CheckEnvironment(e);
  size_t failed = 0;
  for (const auto& i : c.items) failed += i.ok ? 0 : 1;
  if (cli.global.json) {
    std::printf("%s\n", c.ToJson().dump().c_str());
  } else {
    for (const auto& i : c.items)
      std::printf("%-4s  %s: %s\n", i.ok ? "ok" : "FAIL", i.what.c_str(), i.detail.c_str());
    if (c.items.empty()) std::printf("(nothing to check)\n");
  }
  if (failed == 0) return Status::Ok();
  return FailedPrecondition("environment " + e.name + ": " + std::to_string(failed) + " of " +
                            std::to_string(c.items.size()) + " checks failed");
}

void Register(CLI::App& app, Cli& cli) {
  auto* group = app.add_subcommand("env", "Environments the time machine manages (config.toml [environments.NAME])");
  group->require_subcommand(1);
  group->footer(
      "An environment is what a rollback restores and how it is brought back up: paths, git\n"
      "repositories, dump/load hooks, a deploy command and health checks. See\n"
      "docs/environments.md.\n\n"
      "Examples:\n"
      "  clawback env list\n"
      "  clawback env show prod\n"
      "  clawback env check prod");

  auto* list = group->add_subcommand("list", "List the configured environments");
  list->footer("--json prints every environment as `env show --json` does, in an array.");
  list->callback([&cli] { cli.status = RunList(cli); });

  auto name = std::make_shared<std::string>();
  auto* show = group->add_subcommand("show", "Show what an environment manages and how it is deployed");
  show->add_option("name", *name, "The environment's name")->required();
  show->footer("Examples:\n  clawback env show prod\n  clawback --json env show prod");
  show->callback([&cli, name] { cli.status = RunShow(cli, *name); });

  auto* check = group->add_subcommand(
      "check", "Check an environment now: paths exist, git work trees, dump/load/deploy programs, health");
  check->add_option("name", *name, "The environment's name")->required();
  check->footer(
      "Nothing is changed: dump, load and deploy commands are looked up, not run; the health\n"
      "checks are run (with their retries and timeouts). Exit 6 when any check fails.\n\n"
      "Examples:\n"
      "  clawback env check prod\n"
      "  clawback --json env check prod | jq '.checks[] | select(.ok == false)'");
  check->callback([&cli, name] { cli.status = RunCheck(cli, *name); });
}

CLAWBACK_REGISTER_COMMAND(105, Register);

}  // namespace
}  // namespace clawback::cli
