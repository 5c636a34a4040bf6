#include "record/requests.h"

#include <algorithm>
#include <cctype>

#include "ledger/event_kinds.h"
#include "ledger/trace_json.h"
#include "record/rule_helpers.h"

namespace clawback::record {
using namespace detail;  // NOLINT: the rules' shared helpers

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

}  // namespace clawback::record
