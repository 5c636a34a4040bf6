// `clawback deploy start|finish|check|resolve|list|show`: record deployments, their health
// checks and what resolved an incident, in the data dir's ledger, the records the learning
// system reads (learn/engine.h OutcomeOf). A rolled-back deployment gets a RollbackRecord
// with target_kind "deployment" — the record the time machine writes for its rollbacks.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/learn_common.h"
#include "cli/spine_client.h"
#include "cli/time_arg.h"
#include "common/uuid.h"
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

Result<ledger::Deployment> LoadDeployment(ledger::Ledger& l, const std::string& text) {
  ASSIGN_OR_RETURN(Uuid id, ParseId(text, "deployment id"));
  return l.GetDeployment(id);
}

void PrintJson(const Json& j) { std::printf("%s\n", j.dump().c_str()); }

Status RunStart(const DeployArgs& a, Cli& cli) {
  if (a.env.empty()) return InvalidArgument("--env is required");
  if (!a.commit.empty() && (a.commit.size() > 64 || !IsHex(a.commit)))
    return InvalidArgument("--commit \"" + a.commit + "\": expected hex digits (a git SHA)");
  ASSIGN_OR_RETURN(int64_t at, When(a));
  ASSIGN_OR_RETURN(auto l, OpenDataDirLedger(cli));
  ledger::WriteBatch b;
  Uuid conv;
  if (!a.conversation.empty()) {
    ASSIGN_OR_RETURN(conv, ParseId(a.conversation));
    ASSIGN_OR_RETURN(auto c, l->GetConversation(conv));
    (void)c;
  } else {
    ledger::Conversation c;
    c.id = NewUuidV7();
    c.source = "cli";
    c.title = "deploy " + a.env;
    c.started_at_ms = at;
    conv = c.id;
    b.Add(c);
  }
  ledger::Deployment d;
  d.id = NewUuidV7();
  d.conversation_id = conv;
  d.environment = a.env;
  std::string sha = a.commit;
  std::transform(sha.begin(), sha.end(), sha.begin(), ::tolower);
  d.commit_sha = sha;
  d.started_at_ms = at;
  if (!a.services.empty()) d.attributes["services"] = a.services;
  if (!a.paths.empty()) d.attributes["paths"] = a.paths;
  b.Add(d);
  ledger::Event e = NewEvent(conv, "deployment",
                             {{"deployment_id", d.id.ToString()}, {"environment", d.environment},
                              {"commit_sha", d.commit_sha}, {"status", d.status}},
                             "cli");
  e.time_ms = at;
  b.Add(std::move(e));
  RETURN_IF_ERROR(l->Apply(b));
  if (cli.global.json)
    PrintJson({{"deployment_id", d.id.ToString()}, {"conversation_id", conv.ToString()}});
  else
    std::printf("%s\n", d.id.ToString().c_str());
  return Status::Ok();
}

Status RunFinish(const DeployArgs& a, Cli& cli) {
  if (a.status != "succeeded" && a.status != "failed" && a.status != "rolled_back")
    return InvalidArgument("--status must be succeeded, failed or rolled_back");
  if (a.rollback_mode != "exact" && a.rollback_mode != "selective")
    return InvalidArgument("--rollback-mode must be exact or selective");
  ASSIGN_OR_RETURN(int64_t at, When(a));
  ASSIGN_OR_RETURN(auto l, OpenDataDirLedger(cli));
  ASSIGN_OR_RETURN(ledger::Deployment d, LoadDeployment(*l, a.id));
  d.status = a.status;
  d.finished_at_ms = at;
  ledger::WriteBatch b;
  b.Add(d);
  ledger::Event e = NewEvent(d.conversation_id, "deployment.updated",
                             {{"deployment_id", d.id.ToString()}, {"status", d.status}}, "cli");
  e.time_ms = at;
  b.Add(std::move(e));
  std::optional<Uuid> rollback_id;
  if (a.status == "rolled_back") {
    ledger::RollbackRecord r;
    r.id = NewUuidV7();
    rollback_id = r.id;
    r.conversation_id = d.conversation_id;
    r.target_kind = "deployment";
    r.target = d.id.ToString();
    r.mode = a.rollback_mode;
    r.status = "succeeded";
    r.started_at_ms = at;
    r.finished_at_ms = at;
    r.plan = {{"recorded_by", "clawback deploy finish"}, {"environment", d.environment}};
    if (d.conversation_id) r.plan["conversation_id"] = d.conversation_id->ToString();
    if (!a.note.empty()) r.plan["note"] = a.note;
    b.Add(r);
  }
  RETURN_IF_ERROR(l->Apply(b));
  if (cli.global.json) {
    Json j = ledger::DeploymentToJson(d);
    j["rollback_id"] = rollback_id ? Json(rollback_id->ToString()) : Json(nullptr);
    PrintJson(j);
  } else {
    std::printf("deployment %s: %s%s\n", d.id.ToString().c_str(), d.status.c_str(),
                rollback_id ? (" (rollback " + rollback_id->ToString() + ")").c_str() : "");
  }
  return Status::Ok();
}

Status RunCheck(const DeployArgs& a, Cli& cli) {
  if (a.name.empty()) return InvalidArgument("--name is required");
  if (a.passed == a.failed) return InvalidArgument("give exactly one of --passed and --failed");
  ASSIGN_OR_RETURN(int64_t at, When(a));
  ASSIGN_OR_RETURN(LearnSession s, OpenLearnSession(cli));
  ASSIGN_OR_RETURN(ledger::Deployment d, LoadDeployment(*s.ledger, a.id));
  if (!d.conversation_id)
    return FailedPrecondition("deployment " + d.id.ToString() +
                              " has no conversation to record the check on");
  ledger::WriteBatch b;
  Json attrs = {{"deployment_id", d.id.ToString()}, {"name", a.name}, {"passed", a.passed}};
  if (!a.message.empty()) attrs["message"] = a.message;
  ledger::Event e = NewEvent(d.conversation_id, "health_check", attrs, "cli");
  e.time_ms = at;
  b.Add(std::move(e));
  RETURN_IF_ERROR(s.ledger->Apply(b));
  Json out = {{"deployment_id", d.id.ToString()}, {"name", a.name}, {"passed", a.passed}};
  std::optional<learn::Recommendation> rec;
  if (a.failed) {
    // A failed check after a deployment: compute the advice now and keep it in the record.
    ASSIGN_OR_RETURN(learn::Recommendation r, s.engine->RecommendForDeployment(d.id));
    Json rj = r.ToJson();
    if (rj["similar"].size() > 5) rj["similar"].erase(rj["similar"].begin() + 5, rj["similar"].end());
    if (rj["actions"].size() > 3) rj["actions"].erase(rj["actions"].begin() + 3, rj["actions"].end());
    ledger::WriteBatch rb;
    ledger::Event re = NewEvent(d.conversation_id, "learn.recommendation", rj, "clawback-learn");
    re.time_ms = std::max(at, re.time_ms);
    out["recommendation_event_id"] = re.id.ToString();
    rb.Add(std::move(re));
    RETURN_IF_ERROR(s.ledger->Apply(rb));
    out["recommendation"] = rj;
    rec = std::move(r);
  }
  if (cli.global.json) {
    PrintJson(out);
  } else {
    std::printf("health check %s on %s: %s\n", a.name.c_str(), d.id.ToString().c_str(),
                a.passed ? "passed" : "failed");
    if (rec) PrintRecommendation(*rec);
  }
  return Status::Ok();
}

Status RunResolve(const DeployArgs& a, Cli& cli) {
  static const std::vector<std::string> kActions = {"revert_commit", "restore_file", "wait",
                                                    "fix_forward"};
  std::string action = a.action;
  std::replace(action.begin(), action.end(), '-', '_');
  if (action == "rollback")
    return InvalidArgument("record a rollback with `clawback deploy finish ID --status rolled_back`");
  if (std::find(kActions.begin(), kActions.end(), action) == kActions.end())
    return InvalidArgument("--action must be revert-commit, restore-file, wait or fix-forward");
  if (action == "restore_file" && a.path.empty())
    return InvalidArgument("--action restore-file needs --path (and ideally --snapshot)");
  ASSIGN_OR_RETURN(int64_t at, When(a));
  ASSIGN_OR_RETURN(auto l, OpenDataDirLedger(cli));
  ASSIGN_OR_RETURN(ledger::Deployment d, LoadDeployment(*l, a.id));
  if (!d.conversation_id)
    return FailedPrecondition("deployment " + d.id.ToString() +
                              " has no conversation to record the resolution on");
  Json attrs = {{"deployment_id", d.id.ToString()}, {"action", action}};
  if (!a.commit.empty()) attrs["commit"] = a.commit;
  if (!a.path.empty()) attrs["path"] = a.path;
  if (!a.snapshot.empty()) attrs["snapshot"] = a.snapshot;
  if (!a.note.empty()) attrs["note"] = a.note;
  ledger::WriteBatch b;
  ledger::Event e = NewEvent(d.conversation_id, "deployment.resolution", attrs, "cli");
  e.time_ms = at;
  b.Add(e);
  RETURN_IF_ERROR(l->Apply(b));
  if (cli.global.json)
    PrintJson({{"event_id", e.id.ToString()}, {"deployment_id", d.id.ToString()}, {"action", action}});
  else
    std::printf("deployment %s: resolved by %s\n", d.id.ToString().c_str(), action.c_str());
  return Status::Ok();
}

Status RunList(const DeployArgs& a, Cli& cli) {
  if (a.limit < 1 || a.limit > 10000) return InvalidArgument("--limit must be from 1 to 10000");
  ASSIGN_OR_RETURN(LearnSession s, OpenLearnSession(cli));
  ledger::DeploymentFilter f;
  f.environment = a.env;
  f.limit = a.limit;
  ASSIGN_OR_RETURN(auto list, s.ledger->ListDeployments(f));
  Json arr = Json::array();
  if (!cli.global.json)
    std::printf("%-36s  %-10s  %-8s  %-11s  %s\n", "ID", "ENV", "COMMIT", "STATUS", "OUTCOME");
  for (const auto& d : list) {
    ASSIGN_OR_RETURN(learn::Outcome o, s.engine->OutcomeOf(d));
    if (cli.global.json) {
      Json j = ledger::DeploymentToJson(d);
      j["outcome"] = o.ToJson();
      arr.push_back(j);
    } else {
      std::printf("%-36s  %-10s  %-8s  %-11s  %s\n", d.id.ToString().c_str(), d.environment.c_str(),
                  d.commit_sha.substr(0, 8).c_str(), d.status.c_str(),
                  (o.label + (o.action != "none" ? " (" + o.action + ")" : "")).c_str());
    }
  }
  if (cli.global.json) PrintJson({{"deployments", arr}});
  return Status::Ok();
}

Status RunShow(const DeployArgs& a, Cli& cli) {
  ASSIGN_OR_RETURN(LearnSession s, OpenLearnSession(cli));
  ASSIGN_OR_RETURN(ledger::Deployment d, LoadDeployment(*s.ledger, a.id));
  ASSIGN_OR_RETURN(learn::Outcome o, s.engine->OutcomeOf(d));
  Json checks = Json::array();
  if (d.conversation_id) {
    ASSIGN_OR_RETURN(auto t, s.ledger->GetTrace(*d.conversation_id));
    for (const auto& e : t.events)
      if ((e.kind == "health_check" || e.kind == "deployment.resolution") &&
          e.attributes.value("deployment_id", "") == d.id.ToString())
        checks.push_back({{"kind", e.kind}, {"time_ms", e.time_ms}, {"attributes", e.attributes}});
  }
  if (cli.global.json) {
    Json j = ledger::DeploymentToJson(d);
    j["outcome"] = o.ToJson();
    j["events"] = checks;
    PrintJson(j);
    return Status::Ok();
  }
  std::printf("deployment   %s\nenvironment  %s\ncommit       %s\nstatus       %s\nconversation %s\n"
              "outcome      %s (%s)\n",
              d.id.ToString().c_str(), d.environment.c_str(), d.commit_sha.c_str(), d.status.c_str(),
              d.conversation_id ? d.conversation_id->ToString().c_str() : "-", o.label.c_str(),
              o.action.c_str());
  for (const auto& c : checks) std::printf("  %s %s\n", c["kind"].get<std::string>().c_str(),
                                           c["attributes"].dump().c_str());
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
