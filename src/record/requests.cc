#include "record/requests.h"

#include <algorithm>
#include <cctype>

#include "ledger/event_kinds.h"
#include "ledger/trace_json.h"

namespace clawback::record {
namespace {

void Fail(Reply* r, Status st, std::string field) {
  r->status = std::move(st);
  r->field = std::move(field);
}

bool IsHex(std::string_view s) {
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ReadKind(const Json& body, const std::string& key, std::string* out, FieldError* err) {
  if (!ReadString(body, "", key, true, out, err)) return false;
  if (out->size() > 128) {
    *err = Invalid(key, "is longer than 128 characters");
    return false;
  }
  return true;
}

bool RequireObject(const Json& body, FieldError* err) {
  if (body.is_object()) return true;
  *err = Invalid("", "body must be a JSON object");
  return false;
}

bool ParseUuidText(std::string_view text, const std::string& field, Uuid* out, FieldError* err) {
  std::optional<Uuid> id = Uuid::Parse(text);
  if (!id) {
    *err = Invalid(field, "is not a UUID");
    return false;
  }
  *out = *id;
  return true;
}

// Resolves "conversation_id" / "external_id" on the writer thread. Fails the reply with
// NotFound naming the field when the conversation does not exist.
bool ResolveConversation(Context& ctx, const std::optional<Uuid>& id,
                         const std::optional<ledger::ExternalId>& ext, std::optional<Uuid>* out,
                         Reply* reply) {
  if (id) {
    auto exists = ctx.ConversationExists(*id);
    if (!exists.ok()) {
      Fail(reply, exists.status(), "conversation_id");
      return false;
    }
    if (!*exists) {
      Fail(reply, NotFound("conversation " + id->ToString() + " does not exist"),
           "conversation_id");
      return false;
    }
    *out = id;
    return true;
  }
  if (ext) {
    auto found = ctx.ledger().FindConversationByExternal(ext->kind, ext->value);
    if (!found.ok()) {
      Fail(reply, found.status(), "external_id");
      return false;
    }
    if (!found->has_value()) {
      Fail(reply, NotFound("no conversation has external id " + ext->kind + "=" + ext->value),
           "external_id");
      return false;
    }
    *out = (*found)->id;
    ctx.NoteConversation((*found)->id);
  }
  return true;
}

Json IdOrNull(const std::optional<Uuid>& id) { return id ? Json(id->ToString()) : Json(); }

bool ValidDeploymentStatus(const std::string& s) {
  return s == "started" || s == "succeeded" || s == "failed" || s == "rolled_back";
}

}  // namespace

bool ParseJsonBody(std::string_view body, Json* out, FieldError* err) {
  // Depth check first: nlohmann's parser recurses once per nesting level.
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        *err = Invalid("", "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
        return false;
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  try {
    *out = Json::parse(body.begin(), body.end());
  } catch (const Json::exception& e) {
    *err = Invalid("", std::string("invalid JSON: ") + e.what());
    return false;
  }
  return true;
}

bool BuildOpenClawJob(Json body, const RequestInfo& info, PrepareFn* out, FieldError* err) {
  auto items = std::make_shared<std::vector<OpenClawItem>>();
  const bool single = body.is_object();
  if (!ParseOpenClawBody(std::move(body), info.now_ms, info.max_events, items.get(), err))
    return false;
  *out = [items, single](Context& ctx, ledger::WriteBatch* batch, Reply* reply) {
    // Look every session up before changing any state, so a lookup failure leaves the
    // cache as it was.
    std::vector<std::optional<SessionState>*> states(items->size(), nullptr);
    for (size_t i = 0; i < items->size(); ++i) {
      if ((*items)[i].session_key.empty()) continue;
      auto st = ctx.Session((*items)[i].session_key);
      if (!st.ok()) {
        Fail(reply, st.status(), "");
        return;
      }
      states[i] = *st;
    }
    std::vector<std::optional<Uuid>> ids;
    ids.reserve(items->size());
    std::optional<Uuid> last;
    for (size_t i = 0; i < items->size(); ++i) {
      std::optional<SessionState> none;
      std::optional<Uuid> c = MapOpenClawItem((*items)[i], states[i] ? states[i] : &none,
                                              [&ctx] { return ctx.NewId(); }, batch);
      if (c) {
        ctx.NoteConversation(*c);
        last = c;
      }
      ids.push_back(c);
    }
    reply->conversation_id = last;
    reply->finish_body = [ids = std::move(ids), last, single](Json* answer) {
      *answer = Json{{"conversation_id", IdOrNull(last)}};
      if (single) return;
      Json list = Json::array();
      for (const auto& id : ids) list.push_back(IdOrNull(id));
      (*answer)["conversation_ids"] = std::move(list);
      (*answer)["accepted"] = ids.size();
    };
  };
  return true;
}

bool BuildEventJob(const Json& body, const RequestInfo& info, PrepareFn* out, FieldError* err) {
  if (!RequireObject(body, err)) return false;
  std::optional<Uuid> conv;
  if (!ReadUuid(body, "", "conversation_id", false, &conv, err)) return false;
  std::optional<ledger::ExternalId> ext;
  Json ext_json;
  if (!ReadObject(body, "", "external_id", false, &ext_json, err)) return false;
  if (!ext_json.is_null()) {
    ledger::ExternalId e;
    if (!ReadString(ext_json, "external_id", "kind", true, &e.kind, err)) return false;
    if (!ReadString(ext_json, "external_id", "value", true, &e.value, err)) return false;
    ext = e;
  }
  auto ev = std::make_shared<ledger::Event>();
  if (!ReadKind(body, "kind", &ev->kind, err)) return false;
  if (!ReadObject(body, "", "attributes", false, &ev->attributes, err)) return false;
  if (ev->attributes.is_null()) ev->attributes = Json::object();
  std::optional<int64_t> t;
  if (!ReadTime(body, "", "time", &t, err)) return false;
  ev->time_ms = t.value_or(info.now_ms);
  ev->actor = info.actor;
  if (!ReadString(body, "", "actor", false, &ev->actor, err)) return false;

  // Typed projections for the kinds that have one.
  std::shared_ptr<ledger::Command> cmd;
  std::shared_ptr<ledger::FileChange> fc;
  const Json& a = ev->attributes;
  if (ev->kind == ledger::kCommand) {
    cmd = std::make_shared<ledger::Command>();
    if (!ReadStringArray(a, "attributes", "argv", true, &cmd->argv, err)) return false;
    if (!ReadString(a, "attributes", "cwd", false, &cmd->cwd, err)) return false;
    std::optional<int64_t> code, dur;
    if (!ReadInt(a, "attributes", "exit_code", false, &code, err)) return false;
    if (!ReadInt(a, "attributes", "duration_ms", false, &dur, err)) return false;
    if (code) cmd->exit_code = static_cast<int>(*code);
    cmd->duration_ms = dur;
    std::optional<int64_t> started;
    if (!ReadTime(a, "attributes", "started_at", &started, err)) return false;
    cmd->started_at_ms = started.value_or(ev->time_ms - dur.value_or(0));
    if (!ReadString(a, "attributes", "tool_call_id", false, &cmd->tool_call_id, err)) return false;
  } else if (ev->kind == ledger::kFileChange) {
    fc = std::make_shared<ledger::FileChange>();
    if (!ReadString(a, "attributes", "path", true, &fc->path, err)) return false;
    fc->change = "modified";
    if (!ReadString(a, "attributes", "change", false, &fc->change, err)) return false;
    if (!ReadString(a, "attributes", "tool_call_id", false, &fc->tool_call_id, err)) return false;
    fc->time_ms = ev->time_ms;
    fc->attributes = a;
  }
  *out = [conv, ext, ev, cmd, fc](Context& ctx, ledger::WriteBatch* batch, Reply* reply) {
    std::optional<Uuid> c;
    if (!ResolveConversation(ctx, conv, ext, &c, reply)) return;
    ledger::Event e = *ev;
    e.id = ctx.NewId();
    e.conversation_id = c;
    if (cmd) {
      ledger::Command x = *cmd;
      x.id = ctx.NewId();
      x.conversation_id = c;
      batch->Add(std::move(x));
    }
    if (fc) {
      ledger::FileChange x = *fc;
      x.id = ctx.NewId();
      x.conversation_id = c;
      batch->Add(std::move(x));
    }
    reply->conversation_id = c;
    reply->body = Json{{"event_id", e.id.ToString()}, {"conversation_id", IdOrNull(c)}};
    batch->Add(std::move(e));
  };
  return true;
}

bool BuildConversationStartJob(const Json& body, const RequestInfo& info, PrepareFn* out,
                               FieldError* err) {
  if (!RequireObject(body, err)) return false;
  auto c = std::make_shared<ledger::Conversation>();
  std::optional<Uuid> id, prev;
  if (!ReadUuid(body, "", "id", false, &id, err)) return false;
  if (!ReadUuid(body, "", "previous_id", false, &prev, err)) return false;
  c->previous_id = prev;
  if (!ReadString(body, "", "title", false, &c->title, err)) return false;
  c->source = "api";
  if (!ReadString(body, "", "source", false, &c->source, err)) return false;
  if (c->source.empty()) c->source = "api";
  if (!ReadString(body, "", "agent", false, &c->agent, err)) return false;
  std::optional<int64_t> t;
  if (!ReadTime(body, "", "started_at", &t, err)) return false;
  c->started_at_ms = t.value_or(info.now_ms);
  if (!ReadObject(body, "", "attributes", false, &c->attributes, err)) return false;
  if (c->attributes.is_null()) c->attributes = Json::object();
  if (const auto it = body.find("external_ids"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) {
      *err = Invalid("external_ids", "expected an array of {\"kind\", \"value\"}");
      return false;
    }
    for (size_t i = 0; i < it->size(); ++i) {
      std::string f = Path("external_ids", i);
      if (!(*it)[i].is_object()) {
        *err = Invalid(f, "expected an object {\"kind\", \"value\"}");
        return false;
      }
      ledger::ExternalId e;
      if (!ReadString((*it)[i], f, "kind", true, &e.kind, err)) return false;
      if (!ReadString((*it)[i], f, "value", true, &e.value, err)) return false;
      c->external_ids.push_back(std::move(e));
    }
  }
  std::string actor = info.actor;
  *out = [c, id, prev, actor](Context& ctx, ledger::WriteBatch* batch, Reply* reply) {
    ledger::Conversation conv = *c;
    if (id) {
      auto exists = ctx.ConversationExists(*id);
      if (!exists.ok()) return Fail(reply, exists.status(), "id");
      if (*exists) return Fail(reply, AlreadyExists("conversation " + id->ToString() + " exists"), "id");
      conv.id = *id;
    } else {
      conv.id = ctx.NewId();
    }
    if (prev) {
      auto exists = ctx.ConversationExists(*prev);
      if (!exists.ok()) return Fail(reply, exists.status(), "previous_id");
      if (!*exists)
        return Fail(reply, NotFound("conversation " + prev->ToString() + " does not exist"),
                    "previous_id");
    }
    // An OpenClaw session's state must be reloaded if this names its key or id.
    for (const auto& e : conv.external_ids) {
      if (e.kind == kExtSessionKey) ctx.ForgetSession(e.value);
      if (e.kind == kExtSessionId) ctx.ForgetSession("id:" + e.value);
    }
    ctx.NoteConversation(conv.id);
    reply->conversation_id = conv.id;
    reply->body = Json{{"conversation_id", conv.id.ToString()}};
    ledger::Event e;
    e.id = ctx.NewId();
    e.conversation_id = conv.id;
    e.kind = ledger::kConversationStart;
    e.time_ms = conv.started_at_ms;
    e.actor = actor;
    e.attributes = Json{{"source", conv.source}, {"title", conv.title}};
    if (!conv.external_ids.empty()) {
      Json ext = Json::object();
      for (const auto& x : conv.external_ids) ext[x.kind] = x.value;
      e.attributes["external_ids"] = std::move(ext);
    }
    batch->Add(std::move(conv));
    batch->Add(std::move(e));
  };
  return true;
}

bool BuildConversationEndJob(std::string_view id_text, const Json& body, const RequestInfo& info,
                             PrepareFn* out, FieldError* err) {
  Uuid id;
  if (!ParseUuidText(id_text, "id", &id, err)) return false;
  ledger::EndConversation end{id, "ended", info.now_ms};
  if (!body.is_null()) {
    if (!RequireObject(body, err)) return false;
    if (!ReadString(body, "", "status", false, &end.status, err)) return false;
    if (end.status.empty() || end.status == "active") {
      *err = Invalid("status", "must name an end state such as \"ended\" or \"failed\"");
      return false;
    }
    std::optional<int64_t> t;
    if (!ReadTime(body, "", "ended_at", &t, err)) return false;
    if (t) end.ended_at_ms = *t;
  }
  std::string actor = info.actor;
  *out = [end, actor](Context& ctx, ledger::WriteBatch* batch, Reply* reply) {
    auto exists = ctx.ConversationExists(end.id);
    if (!exists.ok()) return Fail(reply, exists.status(), "id");
    if (!*exists)
      return Fail(reply, NotFound("conversation " + end.id.ToString() + " does not exist"), "id");
    ctx.NoteConversationEnded(end.id);
    reply->conversation_id = end.id;
    reply->body = Json{{"conversation_id", end.id.ToString()}, {"status", end.status}};
    ledger::Event e;
    e.id = ctx.NewId();
    e.conversation_id = end.id;
    e.kind = ledger::kConversationEnd;
    e.time_ms = end.ended_at_ms;
    e.actor = actor;
    e.attributes = Json{{"status", end.status}};
    batch->Add(end);
    batch->Add(std::move(e));
  };
  return true;
}

bool BuildCommitJob(const Json& body, const RequestInfo& info, PrepareFn* out, FieldError* err) {
  if (!RequireObject(body, err)) return false;
  auto c = std::make_shared<ledger::Commit>();
  if (!ReadString(body, "", "sha", true, &c->sha, err)) return false;
  if (c->sha.size() < 7 || c->sha.size() > 64 || !IsHex(c->sha)) {
    *err = Invalid("sha", "must be 7 to 64 hex digits");
    return false;
  }
  c->sha = Lower(c->sha);
  std::optional<Uuid> conv;
  if (!ReadUuid(body, "", "conversation_id", false, &conv, err)) return false;
  if (!ReadString(body, "", "trailer", false, &c->trailer, err)) return false;
  std::string conv_field = "conversation_id";
  if (!conv && !c->trailer.empty()) {
    std::optional<Uuid> t = Uuid::Parse(c->trailer);
    if (!t) {
      *err = Invalid("trailer", "is not a conversation UUID");
      return false;
    }
    conv = t;
    conv_field = "trailer";
  }
  for (const char* k : {"repo", "branch", "message", "author"}) {
    std::string* dst = std::string_view(k) == "repo"     ? &c->repo
                       : std::string_view(k) == "branch" ? &c->branch
                       : std::string_view(k) == "message" ? &c->message
                                                          : &c->author;
    if (!ReadString(body, "", k, false, dst, err)) return false;
  }
  if (!ReadStringArray(body, "", "files", false, &c->files, err)) return false;
  std::optional<int64_t> t;
  if (!ReadTime(body, "", "time", &t, err)) return false;
  c->time_ms = t.value_or(info.now_ms);
  std::string actor = info.actor;
  *out = [c, conv, conv_field, actor](Context& ctx, ledger::WriteBatch* batch, Reply* reply) {
    ledger::Commit commit = *c;
    if (conv) {
      auto exists = ctx.ConversationExists(*conv);
      if (!exists.ok()) return Fail(reply, exists.status(), conv_field);
      if (!*exists)
        return Fail(reply, NotFound("conversation " + conv->ToString() + " does not exist"),
                    conv_field);
      commit.conversation_id = conv;
    }
    ledger::Event e;
    e.id = ctx.NewId();
    e.conversation_id = conv;
    e.kind = ledger::kCommit;
    e.time_ms = commit.time_ms;
    e.actor = actor;
    e.attributes = Json{{"sha", commit.sha}, {"repo", commit.repo}, {"branch", commit.branch}};
    reply->conversation_id = conv;
    reply->body = Json{{"sha", commit.sha}, {"conversation_id", IdOrNull(conv)}};
    batch->Add(std::move(commit));
    batch->Add(std::move(e));
  };
  return true;
}

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
