// `clawback recommend (--deployment ID | --conversation ID | --log FILE)` and
// `clawback recommend --risk --env NAME`: advice from similar past situations
// (learn/engine.h).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/learn_common.h"
#include "cli/spine_client.h"

namespace clawback::cli {
namespace {

using Json = nlohmann::json;

struct RecommendArgs {
  std::string deployment;
  std::string conversation;
  std::string log;
  std::string env;
  bool risk = false;
  int limit = 10;
};

Status RunRecommend(const RecommendArgs& a, Cli& cli) {
  int given = !a.deployment.empty() + !a.conversation.empty() + !a.log.empty() + (a.risk ? 1 : 0);
  if (given != 1)
    return InvalidArgument(
        "give exactly one of --deployment ID, --conversation ID, --log FILE and --risk");
  if (a.risk && a.env.empty()) return InvalidArgument("--risk needs --env NAME");
  if (a.limit < 1 || a.limit > 1000) return InvalidArgument("--limit must be from 1 to 1000");
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  if (a.risk) {
    ASSIGN_OR_RETURN(Json j, client->Call("GET", "/v1/risk",
                                          {{"environment", a.env}, {"limit", std::to_string(a.limit)}},
                                          nullptr, "recommend --risk"));
    if (cli.global.json) {
      std::printf("%s\n", j.dump().c_str());
      return Status::Ok();
    }
    auto num = [](const Json& o, const char* k) {
      return static_cast<long long>(o.contains(k) && o[k].is_number() ? o[k].get<int64_t>() : 0);
    };
    auto str = [](const Json& o, const char* k) {
      return o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : std::string();
    };
    std::printf("environment %s: %lld deployments, %lld incidents\n", a.env.c_str(), num(j, "deployments"),
                num(j, "incidents"));
    std::printf("Paths linked to failures:\n");
    Json paths = j.value("paths", Json::array()), templates = j.value("templates", Json::array());
    if (paths.empty()) std::printf("  (none)\n");
    for (const auto& p : paths)
      std::printf("  %3lld/%-3lld failed  %s\n", num(p, "failures"), num(p, "deployments"), str(p, "path").c_str());
    std::printf("Error/warning templates linked to failures:\n");
    if (templates.empty()) std::printf("  (none)\n");
    for (const auto& t : templates)
      std::printf("  %3lld/%-3lld failed  %s\n", num(t, "failures"), num(t, "deployments"),
                  str(t, "template").c_str());
    return Status::Ok();
  }
  Json rec;
  if (!a.deployment.empty()) {
    ASSIGN_OR_RETURN(Uuid id, ParseId(a.deployment, "deployment id"));
    ASSIGN_OR_RETURN(rec, client->Call("GET", "/v1/recommendations", {{"deployment", id.ToString()}},
                                       nullptr, "recommend --deployment"));
  } else if (!a.conversation.empty()) {
    ASSIGN_OR_RETURN(Uuid id, ParseId(a.conversation));
    ASSIGN_OR_RETURN(rec, client->Call("GET", "/v1/recommendations", {{"conversation", id.ToString()}},
                                       nullptr, "recommend --conversation"));
  } else {
    ASSIGN_OR_RETURN(auto lines, ReadLines(a.log));
    Json body = {{"lines", lines}, {"source", a.log}, {"environment", a.env}};
    ASSIGN_OR_RETURN(rec, client->Call("POST", "/v1/recommendations", {}, body, "recommend --log"));
  }
  if (cli.global.json)
    std::printf("%s\n", rec.dump().c_str());
  else
    PrintRecommendation(rec);
  return Status::Ok();
}

void Register(CLI::App& app, Cli& cli) {
  auto a = std::make_shared<RecommendArgs>();
  auto* cmd = app.add_subcommand(
      "recommend", "What to do now: the most similar past situations and what resolved them");
  cmd->add_option("--deployment", a->deployment, "A deployment (its ingested logs and changes)");
  cmd->add_option("--conversation", a->conversation, "The latest deployment of a conversation");
  cmd->add_option("--log", a->log, "A log file not tied to a deployment ('-' reads stdin)");
  cmd->add_flag("--risk", a->risk,
                "Pre-deploy risk check: paths and templates historically linked to failures");
  cmd->add_option("--env", a->env, "Environment (with --risk; with --log, its name)");
  cmd->add_option("--limit", a->limit, "Rows per list with --risk")->capture_default_str();
  cmd->footer(
      "With --server URL (or $CLAWBACK_SERVER) the server's learning system answers\n"
      "(GET /v1/recommendations, POST /v1/recommendations for --log, GET /v1/risk).\n"
      "Logs reach the learning system with `clawback learn ingest --deployment ID FILE...`;\n"
      "outcomes come from the ledger (`clawback deploy finish/check/resolve`).\n\n"
      "Examples:\n"
      "  clawback recommend --deployment 01936f0e-7a52-7c4e-9f00-3c1d2e4f5a6b\n"
      "  clawback recommend --log /var/log/app/error.log --json\n"
      "  clawback recommend --risk --env prod");
  cmd->callback([a, &cli] { cli.status = RunRecommend(*a, cli); });
}

CLAWBACK_REGISTER_COMMAND(58, Register);

}  // namespace
}  // namespace clawback::cli
