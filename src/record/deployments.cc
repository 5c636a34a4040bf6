// The deployment rules of record/requests.h: a deployment's start, its status, its health
// checks (a failed one records the learning system's advice) and what resolved it.
#include <algorithm>
#include <cctype>

#include "ledger/event_kinds.h"
#include "ledger/trace_json.h"
#include "record/requests.h"
#include "record/rule_helpers.h"

namespace clawback::record {
using namespace detail;  // NOLINT: the rules' shared helpers

bool BuildDeploymentCreateJob(const Json& body, const RequestInfo& info, PrepareFn* out,
                              FieldError* err) {
  if (!RequireObject(body, err)) return false;
  auto d = std::make_shared<ledger::Deployment>();
  std::optional<Uuid> id, conv;
  if (!ReadUuid(body, "", "id", false, &id, err)) return false;
  if (!ReadUuid(body, "", "conversation_id", false, &conv, err)) return false;
  if (!ReadString(body, "", "environment", true, &d->environment, err)) return false;
  if (!ReadString(body, "", "commit_sha", false, &d->commit_sha, err)) return false;
  if (!d->commit_sha.empty() && (d->commit_sha.size() > 64 || !IsHex(d->commit_sha))) {
    *err = Invalid("commit_sha", "must be hex digits");
    return false;
  }
  d->commit_sha = Lower(d->commit_sha);
  if (!ReadString(body, "", "status", false, &d->status, err)) return false;
  if (!ValidDeploymentStatus(d->status)) {
    *err = Invalid("status", "must be one of started, succeeded, failed, rolled_back");
    return false;
  }
  std::optional<int64_t> t, fin;
  if (!ReadTime(body, "", "started_at", &t, err)) return false;
  if (!ReadTime(body, "", "finished_at", &fin, err)) return false;
  d->started_at_ms = t.value_or(info.now_ms);
  d->finished_at_ms = fin;
  if (!ReadObject(body, "", "attributes", false, &d->attributes, err)) return false;
  if (d->attributes.is_null()) d->attributes = Json::object();
  std::string actor = info.actor;
  *out = [d, id, conv, actor](Context& ctx, ledger::WriteBatch* batch, Reply* reply) {
    ledger::Deployment dep = *d;
    dep.id = id ? *id : ctx.NewId();
    std::optional<Uuid> c;
    if (!ResolveConversation(ctx, conv, std::nullopt, &c, reply)) return;
    if (!c && !dep.commit_sha.empty()) {
      auto commit = ctx.ledger().GetCommit(dep.commit_sha);
      if (!commit.ok()) return Fail(reply, commit.status(), "commit_sha");
      if (commit->has_value()) c = (*commit)->conversation_id;
    }
    if (!c) {
      // Its checks and resolutions are recorded on a conversation: open one for it.
      ledger::Conversation opened;
      opened.id = ctx.NewId();
      opened.source = actor.empty() ? "api" : actor;
      opened.title = "deploy " + dep.environment;
      opened.started_at_ms = dep.started_at_ms;
      ledger::Event start;
      start.id = ctx.NewId();
      start.conversation_id = opened.id;
      start.kind = ledger::kConversationStart;
      start.time_ms = opened.started_at_ms;
      start.actor = actor;
      start.attributes = Json{{"source", opened.source}, {"title", opened.title}};
      c = opened.id;
      ctx.NoteConversation(opened.id);
      batch->Add(std::move(opened));
      batch->Add(std::move(start));
    }
    dep.conversation_id = c;
    ledger::Event e;
    e.id = ctx.NewId();
    e.conversation_id = c;
    e.kind = ledger::kDeployment;
    e.time_ms = dep.started_at_ms;
    e.actor = actor;
    e.attributes = Json{{"deployment_id", dep.id.ToString()}, {"environment", dep.environment},
                        {"commit_sha", dep.commit_sha}, {"status", dep.status}};
    reply->conversation_id = c;
    reply->body = Json{{"deployment_id", dep.id.ToString()}, {"conversation_id", IdOrNull(c)}};
    batch->Add(std::move(dep));
    batch->Add(std::move(e));
  };
  return true;
}

bool BuildDeploymentPatchJob(std::string_view id_text, const Json& body, const RequestInfo& info,
                             PrepareFn* out, FieldError* err) {
  Uuid id;
  if (!ParseUuidText(id_text, "id", &id, err)) return false;
  if (!RequireObject(body, err)) return false;
  std::string status;
  if (!ReadString(body, "", "status", false, &status, err)) return false;
  if (!status.empty() && !ValidDeploymentStatus(status)) {
    *err = Invalid("status", "must be one of started, succeeded, failed, rolled_back");
    return false;
  }
  std::optional<int64_t> fin;
  if (!ReadTime(body, "", "finished_at", &fin, err)) return false;
  Json attrs;
  if (!ReadObject(body, "", "attributes", false, &attrs, err)) return false;
  std::string mode = "exact", note;
  if (!ReadString(body, "", "rollback_mode", false, &mode, err)) return false;
  if (mode != "exact" && mode != "selective") {
    *err = Invalid("rollback_mode", "must be exact or selective");
    return false;
  }
  if (!ReadString(body, "", "note", false, &note, err)) return false;
  int64_t now = info.now_ms;
  std::optional<int64_t> at;
  if (!ReadTime(body, "", "time", &at, err)) return false;
  if (at) now = *at;
  std::string actor = info.actor;
  *out = [id, status, fin, attrs, now, actor, mode, note](Context& ctx, ledger::WriteBatch* batch,
                                                          Reply* reply) {
    auto got = ctx.ledger().GetDeployment(id);
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound)
        return Fail(reply, NotFound("deployment " + id.ToString() + " does not exist"), "id");
      return Fail(reply, got.status(), "id");
    }
    ledger::Deployment d = *got;
    if (!status.empty()) d.status = status;
    if (fin) {
      d.finished_at_ms = fin;
    } else if (!status.empty() && status != "started" && !d.finished_at_ms) {
      d.finished_at_ms = now;
    }
    if (attrs.is_object()) {
      if (!d.attributes.is_object()) d.attributes = Json::object();
      for (auto it = attrs.begin(); it != attrs.end(); ++it) d.attributes[it.key()] = it.value();
    }
    ledger::Event e;
    e.id = ctx.NewId();
    e.conversation_id = d.conversation_id;
    e.kind = ledger::kDeploymentUpdated;
    e.time_ms = now;
    e.actor = actor;
    e.attributes = Json{{"deployment_id", d.id.ToString()}, {"status", d.status}};
    reply->conversation_id = d.conversation_id;
    reply->body = ledger::DeploymentToJson(d);
    reply->body["rollback_id"] = nullptr;
    if (status == "rolled_back") {
      // A rollback someone did by hand, recorded as the time machine records its own.
      ledger::RollbackRecord r;
      r.id = ctx.NewId();
      r.conversation_id = d.conversation_id;
      r.target_kind = "deployment";
      r.target = d.id.ToString();
      r.mode = mode;
      r.status = "succeeded";
      r.started_at_ms = now;
      r.finished_at_ms = now;
      r.plan = {{"recorded_by", actor}, {"environment", d.environment}};
      if (d.conversation_id) r.plan["conversation_id"] = d.conversation_id->ToString();
      if (!note.empty()) r.plan["note"] = note;
      reply->body["rollback_id"] = r.id.ToString();
      batch->Add(std::move(r));
    }
    batch->Add(std::move(d));
    batch->Add(std::move(e));
  };
  return true;
}

namespace {

// The deployment `id` names, for a job that records on its conversation.
bool LoadDeploymentWithConversation(Context& ctx, const Uuid& id, const char* what,
                                    ledger::Deployment* out, Reply* reply) {
  auto got = ctx.ledger().GetDeployment(id);
  if (!got.ok()) {
    if (got.status().code() == StatusCode::kNotFound) {
      Fail(reply, NotFound("deployment " + id.ToString() + " does not exist"), "id");
    } else {
      Fail(reply, got.status(), "id");
    }
    return false;
  }
  if (!got->conversation_id) {
    Fail(reply, FailedPrecondition("deployment " + id.ToString() + " has no conversation to record the " +
                                   what + " on"),
         "id");
    return false;
  }
  *out = *got;
  return true;
}

}  // namespace

bool BuildDeploymentCheckJob(std::string_view id_text, const Json& body, const RequestInfo& info,
                             const std::function<Result<Json>(const Uuid&)>& recommend,
                             PrepareFn* out, FieldError* err) {
  Uuid id;
  if (!ParseUuidText(id_text, "id", &id, err)) return false;
  if (!RequireObject(body, err)) return false;
  std::string name, message;
  if (!ReadString(body, "", "name", true, &name, err)) return false;
  if (name.empty()) {
    *err = Invalid("name", "is empty");
    return false;
  }
  if (!body.contains("passed") || !body["passed"].is_boolean()) {
    *err = Invalid("passed", "must be true or false");
    return false;
  }
  bool passed = body["passed"].get<bool>();
  if (!ReadString(body, "", "message", false, &message, err)) return false;
  std::optional<int64_t> t;
  if (!ReadTime(body, "", "time", &t, err)) return false;
  int64_t at = t.value_or(info.now_ms);
  std::string actor = info.actor;
  *out = [id, name, message, passed, at, actor, recommend](Context& ctx, ledger::WriteBatch* batch,
                                                          Reply* reply) {
    ledger::Deployment d;
    if (!LoadDeploymentWithConversation(ctx, id, "check", &d, reply)) return;
    ledger::Event e;
    e.id = ctx.NewId();
    e.conversation_id = d.conversation_id;
    e.kind = ledger::kHealthCheck;
    e.time_ms = at;
    e.actor = actor;
    e.attributes = Json{{"deployment_id", d.id.ToString()}, {"name", name}, {"passed", passed}};
    if (!message.empty()) e.attributes["message"] = message;
    reply->conversation_id = d.conversation_id;
    reply->body = Json{{"event_id", e.id.ToString()}, {"deployment_id", d.id.ToString()},
                       {"name", name}, {"passed", passed}};
    batch->Add(std::move(e));
    if (passed || !recommend) return;
    // A failed check: the advice for it, computed once the check is in the ledger (it is one
    // of the situation's features), and kept in the record.
    std::optional<Uuid> conv = d.conversation_id;
    reply->after_commit = [recommend, id, conv, at]() -> Result<std::optional<PrepareFn>> {
      ASSIGN_OR_RETURN(Json rj, recommend(id));
      if (rj.contains("similar") && rj["similar"].is_array() && rj["similar"].size() > 5)
        rj["similar"].erase(rj["similar"].begin() + 5, rj["similar"].end());
      if (rj.contains("actions") && rj["actions"].is_array() && rj["actions"].size() > 3)
        rj["actions"].erase(rj["actions"].begin() + 3, rj["actions"].end());
      PrepareFn record = [rj, conv, at](Context& ctx2, ledger::WriteBatch* batch2, Reply* reply2) {
        ledger::Event re;
        re.id = ctx2.NewId();
        re.conversation_id = conv;
        re.kind = ledger::kLearnRecommendation;
        re.time_ms = std::max(at, ctx2.NowMs());
        re.actor = "clawback-learn";
        re.attributes = rj;
        reply2->conversation_id = conv;
        reply2->body = Json{{"recommendation", rj}, {"recommendation_event_id", re.id.ToString()}};
        batch2->Add(std::move(re));
      };
      return std::optional<PrepareFn>(std::move(record));
    };
  };
  return true;
}

bool BuildDeploymentResolutionJob(std::string_view id_text, const Json& body, const RequestInfo& info,
                                  PrepareFn* out, FieldError* err) {
  static const std::vector<std::string> kActions = {"revert_commit", "restore_file", "wait",
                                                    "fix_forward"};
  Uuid id;
  if (!ParseUuidText(id_text, "id", &id, err)) return false;
  if (!RequireObject(body, err)) return false;
  std::string action;
  if (!ReadString(body, "", "action", true, &action, err)) return false;
  std::replace(action.begin(), action.end(), '-', '_');
  if (action == "rollback") {
    *err = Invalid("action", "a rollback is a deployment's status rolled_back (PATCH /v1/deployments/{id})");
    return false;
  }
  if (std::find(kActions.begin(), kActions.end(), action) == kActions.end()) {
    *err = Invalid("action", "must be revert_commit, restore_file, wait or fix_forward");
    return false;
  }
  Json attrs = {{"action", action}};
  for (const char* k : {"commit", "path", "snapshot", "note"}) {
    std::string v;
    if (!ReadString(body, "", k, false, &v, err)) return false;
    if (!v.empty()) attrs[k] = v;
  }
  if (action == "restore_file" && !attrs.contains("path")) {
    *err = Invalid("path", "is required for restore_file");
    return false;
  }
  std::optional<int64_t> t;
  if (!ReadTime(body, "", "time", &t, err)) return false;
  int64_t at = t.value_or(info.now_ms);
  std::string actor = info.actor;
  *out = [id, attrs, at, actor, action](Context& ctx, ledger::WriteBatch* batch, Reply* reply) {
    ledger::Deployment d;
    if (!LoadDeploymentWithConversation(ctx, id, "resolution", &d, reply)) return;
    ledger::Event e;
    e.id = ctx.NewId();
    e.conversation_id = d.conversation_id;
    e.kind = ledger::kDeploymentResolution;
    e.time_ms = at;
    e.actor = actor;
    e.attributes = attrs;
    e.attributes["deployment_id"] = d.id.ToString();
    reply->conversation_id = d.conversation_id;
    reply->body = Json{{"event_id", e.id.ToString()}, {"deployment_id", d.id.ToString()},
                       {"action", action}};
    batch->Add(std::move(e));
  };
  return true;
}

}  // namespace clawback::record
