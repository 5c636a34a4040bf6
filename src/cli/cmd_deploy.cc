// `clawback deploy start|finish|check|resolve|list|show`: record deployments, their health
// checks and what resolved an incident, in the data dir's ledger, the records the learning
// system reads (learn/engine.h OutcomeOf). A rolled-back deployment gets a RollbackRecord
// with target_kind "deployment" — the record the time machine writes for its rollbacks.
#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/learn_common.h"
#include "cli/spine_client.h"
#include "cli/time_arg.h"
#include "common/uuid.h"
#include "ledger/event_kinds.h"
#include "ledger/trace_json.h"

namespace clawback::cli {
namespace {

using Json = nlohmann::json;

struct DeployArgs {
  std::string id;
  std::string env;
  std::string commit;
  std::string conversation;
  std::vector<std::string> services;
  std::vector<std::string> paths;
  std::string status;
  std::string rollback_mode = "exact";
  std::string name;
  bool passed = false;
  bool failed = false;
  std::string message;
  std::string action;
  std::string path;
  std::string snapshot;
  std::string note;
  std::string at;
  int limit = 20;
};

Result<int64_t> When(const DeployArgs& a) {
  if (a.at.empty()) return SystemClock().NowUnixMillis();
  return ParseTimeArg(a.at, "--at");
}

bool IsHex(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c); });
}

void PrintJson(const Json& j) { std::printf("%s\n", j.dump().c_str()); }

// A string member of an answer; `none` when it is absent or null.
std::string Str(const Json& j, const char* key, const char* none = "") {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : none;
}

void PrintWarnings(const Json& answer) {
  if (!answer.contains("warnings")) return;
  for (const auto& w : answer["warnings"])
    if (w.is_string()) std::fprintf(stderr, "warning: %s\n", w.get<std::string>().c_str());
}

Status RunStart(const DeployArgs& a, Cli& cli) {
  if (a.env.empty()) return InvalidArgument("--env is required");
  if (!a.commit.empty() && (a.commit.size() > 64 || !IsHex(a.commit)))
    return InvalidArgument("--commit \"" + a.commit + "\": expected hex digits (a git SHA)");
  ASSIGN_OR_RETURN(int64_t at, When(a));
  Json body = {{"environment", a.env}, {"started_at", at}, {"actor", "cli"}};
  if (!a.commit.empty()) body["commit_sha"] = a.commit;
  if (!a.conversation.empty()) {
    ASSIGN_OR_RETURN(Uuid conv, ParseId(a.conversation));
    body["conversation_id"] = conv.ToString();
  }
  Json attrs = Json::object();
  if (!a.services.empty()) attrs["services"] = a.services;
  if (!a.paths.empty()) attrs["paths"] = a.paths;
  body["attributes"] = attrs;
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  ASSIGN_OR_RETURN(Json answer, client->Write("POST", "/v1/deployments", body, "deploy start"));
  if (cli.global.json)
    PrintJson(answer);
  else
    std::printf("%s\n", answer.value("deployment_id", "").c_str());
  return Status::Ok();
}

Status RunFinish(const DeployArgs& a, Cli& cli) {
  if (a.status != "succeeded" && a.status != "failed" && a.status != "rolled_back")
    return InvalidArgument("--status must be succeeded, failed or rolled_back");
  if (a.rollback_mode != "exact" && a.rollback_mode != "selective")
    return InvalidArgument("--rollback-mode must be exact or selective");
  ASSIGN_OR_RETURN(int64_t at, When(a));
  ASSIGN_OR_RETURN(Uuid id, ParseId(a.id, "deployment id"));
  Json body = {{"status", a.status}, {"finished_at", at}, {"time", at}, {"actor", "cli"}};
  if (a.status == "rolled_back") body["rollback_mode"] = a.rollback_mode;
  if (!a.note.empty()) body["note"] = a.note;
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  ASSIGN_OR_RETURN(Json answer, client->Write("PATCH", "/v1/deployments/" + id.ToString(), body,
                                                "deploy finish " + id.ToString()));
  if (cli.global.json) {
    PrintJson(answer);
  } else {
    std::string rollback = answer.contains("rollback_id") && answer["rollback_id"].is_string()
                               ? " (rollback " + answer["rollback_id"].get<std::string>() + ")"
                               : "";
    std::printf("deployment %s: %s%s\n", id.ToString().c_str(), answer.value("status", "").c_str(),
                rollback.c_str());
  }
  return Status::Ok();
}

Status RunCheck(const DeployArgs& a, Cli& cli) {
  if (a.name.empty()) return InvalidArgument("--name is required");
  if (a.passed == a.failed) return InvalidArgument("give exactly one of --passed and --failed");
  ASSIGN_OR_RETURN(int64_t at, When(a));
  ASSIGN_OR_RETURN(Uuid id, ParseId(a.id, "deployment id"));
  Json body = {{"name", a.name}, {"passed", a.passed}, {"time", at}, {"actor", "cli"}};
  if (!a.message.empty()) body["message"] = a.message;
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  ASSIGN_OR_RETURN(Json answer, client->Write("POST", "/v1/deployments/" + id.ToString() + "/checks",
                                                body, "deploy check " + id.ToString()));
  PrintWarnings(answer);
  if (cli.global.json) {
    PrintJson(answer);
  } else {
    std::printf("health check %s on %s: %s\n", a.name.c_str(), id.ToString().c_str(),
                a.passed ? "passed" : "failed");
    if (answer.contains("recommendation")) PrintRecommendation(answer["recommendation"]);
  }
  return Status::Ok();
}

Status RunResolve(const DeployArgs& a, Cli& cli) {
  std::string action = a.action;
  std::replace(action.begin(), action.end(), '-', '_');
  if (action == "rollback")
    return InvalidArgument("record a rollback with `clawback deploy finish ID --status rolled_back`");
  if (action == "restore_file" && a.path.empty())
    return InvalidArgument("--action restore-file needs --path (and ideally --snapshot)");
  ASSIGN_OR_RETURN(int64_t at, When(a));
  ASSIGN_OR_RETURN(Uuid id, ParseId(a.id, "deployment id"));
  Json body = {{"action", action}, {"time", at}, {"actor", "cli"}};
  if (!a.commit.empty()) body["commit"] = a.commit;
  if (!a.path.empty()) body["path"] = a.path;
  if (!a.snapshot.empty()) body["snapshot"] = a.snapshot;
  if (!a.note.empty()) body["note"] = a.note;
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  auto answer = client->Write("POST", "/v1/deployments/" + id.ToString() + "/resolutions", body,
                                "deploy resolve " + id.ToString());
  if (!answer.ok()) {
    // The route names the allowed actions with underscores; the flag takes dashes.
    if (answer.status().message().find("field action") != std::string::npos)
      return InvalidArgument("--action must be revert-commit, restore-file, wait or fix-forward");
    return answer.status();
  }
  if (cli.global.json)
    PrintJson(*answer);
  else
    std::printf("deployment %s: resolved by %s\n", id.ToString().c_str(), action.c_str());
  return Status::Ok();
}

Status RunList(const DeployArgs& a, Cli& cli) {
  if (a.limit < 1 || a.limit > 10000) return InvalidArgument("--limit must be from 1 to 10000");
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  std::map<std::string, std::string> query = {{"limit", std::to_string(a.limit)}};
  if (!a.env.empty()) query["environment"] = a.env;
  ASSIGN_OR_RETURN(Json answer, client->Call("GET", "/v1/deployments", query, nullptr, "deploy list"));
  if (cli.global.json) {
    PrintJson(answer);
    return Status::Ok();
  }
  std::printf("%-36s  %-10s  %-8s  %-11s  %s\n", "ID", "ENV", "COMMIT", "STATUS", "OUTCOME");
  for (const auto& d : answer.value("deployments", Json::array())) {
    const Json& o = d.contains("outcome") ? d["outcome"] : Json::object();
    std::string action = Str(o, "action", "none");
    std::printf("%-36s  %-10s  %-8s  %-11s  %s\n", Str(d, "id").c_str(), Str(d, "environment").c_str(),
                Str(d, "commit_sha").substr(0, 8).c_str(), Str(d, "status").c_str(),
                (Str(o, "label") + (action != "none" ? " (" + action + ")" : "")).c_str());
  }
  return Status::Ok();
}

Status RunShow(const DeployArgs& a, Cli& cli) {
  ASSIGN_OR_RETURN(Uuid id, ParseId(a.id, "deployment id"));
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  ASSIGN_OR_RETURN(Json d, client->Call("GET", "/v1/deployments/" + id.ToString(), {}, nullptr,
                                        "deploy show " + id.ToString()));
  if (cli.global.json) {
    PrintJson(d);
    return Status::Ok();
  }
  const Json& o = d.contains("outcome") ? d["outcome"] : Json::object();
  auto str = [](const Json& j, const char* k) { return Str(j, k, "-"); };
  std::printf("deployment   %s\nenvironment  %s\ncommit       %s\nstatus       %s\nconversation %s\n"
              "outcome      %s (%s)\n",
              str(d, "id").c_str(), str(d, "environment").c_str(), str(d, "commit_sha").c_str(),
              str(d, "status").c_str(), str(d, "conversation_id").c_str(), str(o, "label").c_str(),
              str(o, "action").c_str());
  for (const auto& c : d.value("events", Json::array()))
    std::printf("  %s %s\n", Str(c, "kind").c_str(), c["attributes"].dump().c_str());
  return Status::Ok();
}

void Register(CLI::App& app, Cli& cli) {
  auto* deploy = app.add_subcommand("deploy", "Record deployments, health checks and resolutions");
  deploy->require_subcommand(1);
  deploy->footer(
      "Examples:\n"
      "  id=$(clawback deploy start --env prod --commit 3f2a9c1 --service api)\n"
      "  clawback deploy check \"$id\" --name smoke --failed --message 'HTTP 502'\n"
      "  clawback deploy finish \"$id\" --status rolled_back\n"
      "  clawback deploy list --env prod");
  auto a = std::make_shared<DeployArgs>();
  auto at = [&](CLI::App* c) {
    c->add_option("--at", a->at, "When it happened: RFC 3339 time or an age (\"5m\"); default now");
  };

  auto* start = deploy->add_subcommand("start", "Record a deployment that starts now; prints its id");
  start->add_option("--env", a->env, "Environment name")->required();
  start->add_option("--commit", a->commit, "The git commit being deployed (hex SHA)");
  start->add_option("-c,--conversation", a->conversation,
                    "The conversation that deploys (default: a new one titled 'deploy ENV')");
  start->add_option("--service", a->services, "A service it deploys; repeatable");
  start->add_option("--path", a->paths, "A path it changes; repeatable");
  at(start);
  start->footer("Example:\n  clawback deploy start --env prod --commit 3f2a9c1 --service api --path /etc/app.toml");
  start->callback([a, &cli] { cli.status = RunStart(*a, cli); });

  auto* finish = deploy->add_subcommand(
      "finish", "Set a deployment's final status; rolled_back also records the rollback");
  finish->add_option("ID", a->id, "Deployment id")->required();
  finish->add_option("--status", a->status, "succeeded, failed or rolled_back")->required();
  finish->add_option("--rollback-mode", a->rollback_mode, "exact or selective (with rolled_back)")
      ->capture_default_str();
  finish->add_option("--note", a->note, "Free text kept with the rollback");
  at(finish);
  finish->footer("Examples:\n  clawback deploy finish \"$id\" --status succeeded\n"
                 "  clawback deploy finish \"$id\" --status rolled_back --rollback-mode selective");
  finish->callback([a, &cli] { cli.status = RunFinish(*a, cli); });

  auto* check = deploy->add_subcommand(
      "check", "Record a health check of a deployment; a failure prints (and records) advice");
  check->add_option("ID", a->id, "Deployment id")->required();
  check->add_option("--name", a->name, "Check name, e.g. smoke, readiness")->required();
  check->add_flag("--passed", a->passed, "The check passed");
  check->add_flag("--failed", a->failed, "The check failed");
  check->add_option("--message", a->message, "What the check saw");
  at(check);
  check->footer(
      "A failed check computes `clawback recommend --deployment ID` and records it as a\n"
      "learn.recommendation event on the deployment's conversation.\n\n"
      "Examples:\n  clawback deploy check \"$id\" --name smoke --failed --message 'HTTP 502'\n"
      "  clawback deploy check \"$id\" --name smoke --passed");
  check->callback([a, &cli] { cli.status = RunCheck(*a, cli); });

  auto* resolve = deploy->add_subcommand(
      "resolve", "Record what resolved a failed deployment (other than a rollback)");
  resolve->add_option("ID", a->id, "Deployment id")->required();
  resolve->add_option("--action", a->action, "revert-commit, restore-file, wait or fix-forward")
      ->required();
  resolve->add_option("--commit", a->commit, "The reverting or fixing commit");
  resolve->add_option("--path", a->path, "The restored file (restore-file)");
  resolve->add_option("--snapshot", a->snapshot, "The snapshot it was restored from");
  resolve->add_option("--note", a->note, "Free text");
  at(resolve);
  resolve->footer(
      "Examples:\n  clawback deploy resolve \"$id\" --action revert-commit --commit 9e1d2b4\n"
      "  clawback deploy resolve \"$id\" --action restore-file --path /etc/app/tls.pem --snapshot 4be1c2d0");
  resolve->callback([a, &cli] { cli.status = RunResolve(*a, cli); });

  auto* list = deploy->add_subcommand("list", "Deployments, newest first, with their outcome");
  list->add_option("--env", a->env, "Only this environment");
  list->add_option("--limit", a->limit, "At most this many")->capture_default_str();
  list->footer("Example:\n  clawback deploy list --env prod --json");
  list->callback([a, &cli] { cli.status = RunList(*a, cli); });

  auto* show = deploy->add_subcommand("show", "One deployment, its checks and its outcome");
  show->add_option("ID", a->id, "Deployment id")->required();
  show->footer("Example:\n  clawback deploy show \"$id\"");
  show->callback([a, &cli] { cli.status = RunShow(*a, cli); });
}

CLAWBACK_REGISTER_COMMAND(55, Register);

}  // namespace
}  // namespace clawback::cli
