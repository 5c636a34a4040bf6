#include "record/openclaw.h"

#include <algorithm>

#include "common/suggest.h"
#include "ledger/event_kinds.h"

namespace clawback::record {
namespace {

// The first non-empty string among ctx.<key> and event.<key>.
std::string CtxOrEvent(const OpenClawItem& it, const char* key) {
  std::string v = GetString(it.ctx, {key});
  return v.empty() ? GetString(it.event, {key}) : v;
}

bool CheckOptionalString(const Json& obj, const std::string& prefix, const char* key,
                         FieldError* err) {
  std::string ignored;
  return ReadString(obj, prefix, key, false, &ignored, err);
}

std::optional<int64_t> OptionalInt(const Json* v) {
  if (!v) return std::nullopt;
  if (v->is_number_integer() || v->is_number_unsigned()) return v->get<int64_t>();
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (d > -9e18 && d < 9e18) return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

void AddExternal(const Uuid& conversation, const std::string& kind, const std::string& value,
                 SessionState* st, ledger::WriteBatch* batch) {
  if (value.empty()) return;
  if (!st->external_ids.insert({kind, value}).second) return;
  batch->Add(ledger::AddExternalId{conversation, ledger::ExternalId{kind, value}});
}

// Opens a conversation for `item`, linked to `previous` when set.
void Open(const OpenClawItem& item, std::optional<Uuid> previous, bool announced,
          const std::function<Uuid()>& new_id, std::optional<SessionState>* state,
          ledger::WriteBatch* batch) {
  SessionState st;
  st.conversation_id = new_id();
  st.open = true;
  st.announced = announced;
  st.session_id = item.session_id;
  ledger::Conversation c;
  c.id = st.conversation_id;
  c.source = "openclaw";
  c.title = item.raw_session_key.empty() ? "openclaw session " + item.session_id
                                         : item.raw_session_key;
  c.agent = item.agent_id;
  c.started_at_ms = item.time_ms;
  c.status = "active";
  c.previous_id = previous;
  c.attributes = Json{{"opened_by", item.hook}};
  if (!item.raw_session_key.empty()) {
    c.attributes["session_key"] = item.raw_session_key;
    c.external_ids.push_back({kExtSessionKey, item.raw_session_key});
    st.external_ids.insert({kExtSessionKey, item.raw_session_key});
  }
  if (!item.session_id.empty()) {
    c.attributes["session_id"] = item.session_id;
    c.external_ids.push_back({kExtSessionId, item.session_id});
    st.external_ids.insert({kExtSessionId, item.session_id});
  }
  if (std::string r = GetString(item.event, {"resumedFrom"}); !r.empty())
    c.attributes["resumed_from"] = r;
  batch->Add(std::move(c));
  *state = std::move(st);
}

void Close(const OpenClawItem& item, const std::string& status, SessionState* st,
           ledger::WriteBatch* batch) {
  batch->Add(ledger::EndConversation{st->conversation_id, status, item.time_ms});
  st->open = false;
  st->tool_starts.clear();
}

std::string EndStatusFor(const OpenClawItem& item) {
  return GetString(item.event, {"reason"}) == "reset" ? "reset" : "ended";
}

// Spends the item's params and result texts (they move into the ToolCall).
void MapToolCall(OpenClawItem& item, SessionState* st, const std::function<Uuid()>& new_id,
                 ledger::WriteBatch* batch) {
  if (item.tool_call_id.empty()) return;
  const bool before = item.hook == "before_tool_call";
  ledger::ToolCall t;
  t.conversation_id = st->conversation_id;
  t.tool_call_id = item.tool_call_id;
  t.name = item.tool_name;
  t.run_id = item.run_id;
  t.params_text = std::move(item.params_text);
  if (before) {
    t.status = "started";
    t.started_at_ms = item.time_ms;
    st->tool_starts[item.tool_call_id] = item.time_ms;
    batch->Add(std::move(t));
    return;
  }
  // after_tool_call
  std::optional<int64_t> duration = OptionalInt(GetPath(item.event, {"durationMs"}));
  std::optional<int64_t> exit_code = OptionalInt(GetPath(item.event, {"result", "details", "exitCode"}));
  auto started = st->tool_starts.find(item.tool_call_id);
  int64_t started_at =
      started != st->tool_starts.end() ? started->second : item.time_ms - duration.value_or(0);
  if (started != st->tool_starts.end()) st->tool_starts.erase(started);
  if (!duration) duration = item.time_ms - started_at;
  const Json* error = GetPath(item.event, {"error"});
  bool has_error = error && !error->is_null() && !(error->is_string() && error->get<std::string>().empty());
  t.status = has_error || (exit_code && *exit_code != 0) ? "error" : "ok";
  if (exit_code) t.exit_code = static_cast<int>(*exit_code);
  t.duration_ms = duration;
  t.started_at_ms = started_at;
  t.finished_at_ms = item.time_ms;
  t.result_text = std::move(item.result_text);
  if (has_error) t.error = error->is_string() ? error->get<std::string>() : error->dump();

  if (item.tool_name == "exec") {
    ledger::Command c;
    c.id = new_id();
    c.conversation_id = st->conversation_id;
    if (const Json* cmd = GetPath(item.event, {"params", "command"})) {
      if (cmd->is_string()) {
        c.argv.push_back(cmd->get<std::string>());
      } else if (cmd->is_array()) {
        for (const auto& a : *cmd)
          if (a.is_string()) c.argv.push_back(a.get<std::string>());
      }
    }
    c.cwd = GetString(item.event, {"result", "details", "cwd"});
    if (c.cwd.empty()) c.cwd = GetString(item.event, {"params", "workdir"});
    if (exit_code) c.exit_code = static_cast<int>(*exit_code);
    std::optional<int64_t> cmd_duration =
        OptionalInt(GetPath(item.event, {"result", "details", "durationMs"}));
    c.duration_ms = cmd_duration ? cmd_duration : duration;
    c.started_at_ms = item.time_ms - c.duration_ms.value_or(0);
    c.tool_call_id = item.tool_call_id;
    batch->Add(std::move(t));
    batch->Add(std::move(c));
    return;
  }
  batch->Add(std::move(t));
}

}  // namespace

namespace {

// Serialises the item's attributes {"ctx","event","hook"} into it->attributes_text, and a
// tool hook's event.params (a non-empty object) and event.result (not null) into
// params_text and result_text, as slices of that one serialisation (the same bytes as
// serialising each alone: a value's text does not depend on where it sits).
void SerializeItem(OpenClawItem* it) {
  std::string& s = it->attributes_text;
  s.clear();
  s += "{\"ctx\":";
  ledger::AppendJson(it->ctx, &s);
  s += ",\"event\":";
  std::pair<size_t, size_t> params{0, 0}, result{0, 0};
  if (it->event.is_object()) {
    s += '{';
    bool first = true;
    for (const auto& [k, v] : it->event.get_ref<const Json::object_t&>()) {
      if (!first) s += ',';
      first = false;
      ledger::AppendJsonString(k, &s);
      s += ':';
      size_t begin = s.size();
      ledger::AppendJson(v, &s);
      if (k == "params" && v.is_object() && !v.empty()) params = {begin, s.size()};
      if (k == "result" && !v.is_null()) result = {begin, s.size()};
    }
    s += '}';
  } else {
    ledger::AppendJson(it->event, &s);
  }
  s += ",\"hook\":";
  ledger::AppendJsonString(it->hook, &s);
  s += '}';
  it->params_text.clear();
  it->result_text.clear();
  if (it->hook == "before_tool_call" || it->hook == "after_tool_call") {
    if (params.second) it->params_text = s.substr(params.first, params.second - params.first);
    if (result.second) it->result_text = s.substr(result.first, result.second - result.first);
  }
}

}  // namespace

const std::vector<std::string>& KnownOpenClawHooks() {
  static const std::vector<std::string> hooks = {
      "gateway_start", "gateway_pre_stop", "gateway_stop", "before_install",
      "inbound_claim", "message_received", "before_dispatch", "session_start",
      "before_model_resolve", "before_prompt_build", "before_agent_start", "before_agent_reply",
      "heartbeat_prompt_contribution", "llm_input", "llm_output", "resolve_exec_env",
      "before_tool_call", "after_tool_call", "tool_result_persist", "before_message_write",
      "subagent_spawning", "subagent_delivery_target", "subagent_spawned", "subagent_ended",
      "before_compaction", "after_compaction", "agent_end", "reply_dispatch",
      "message_sending", "message_sent", "before_reset", "session_end",
      "plugin.delivery_gap"};
  return hooks;
}

bool HookNeedsSession(const std::string& hook) {
  return hook == "session_start" || hook == "session_end" || hook == "before_tool_call" ||
         hook == "after_tool_call";
}

bool ParseOpenClawItem(Json item, const std::string& field, int64_t now_ms,
                       OpenClawItem* out, FieldError* err) {
  if (!item.is_object()) {
    *err = Invalid(field, "must be an object {\"hook\", \"event\", \"ctx\"}");
    return false;
  }
  OpenClawItem it;
  if (!ReadString(item, field, "hook", true, &it.hook, err)) return false;
  if (it.hook.size() > 128) {
    *err = Invalid(Path(field, "hook"), "is longer than 128 characters");
    return false;
  }
  const auto& known = KnownOpenClawHooks();
  if (std::find(known.begin(), known.end(), it.hook) == known.end()) {
    std::string list;
    for (const auto& h : known) list += (list.empty() ? "" : ", ") + h;
    *err = Invalid(Path(field, "hook"), "is \"" + it.hook + "\", not an OpenClaw hook" +
                                            DidYouMean(it.hook, known) + "; known hooks: " + list);
    return false;
  }
  if (!TakeObject(&item, field, "event", false, &it.event, err)) return false;
  if (!TakeObject(&item, field, "ctx", false, &it.ctx, err)) return false;
  std::optional<int64_t> ts;
  if (!ReadTime(item, field, "ts", &ts, err)) return false;
  it.time_ms = ts.value_or(now_ms);
  // The identifiers must be strings when present (they become keys).
  for (const char* k : {"sessionKey", "sessionId", "agentId", "runId", "toolCallId", "toolName"}) {
    if (!CheckOptionalString(it.ctx, Path(field, "ctx"), k, err)) return false;
    if (!CheckOptionalString(it.event, Path(field, "event"), k, err)) return false;
  }
  Json trace;
  if (!ReadObject(it.ctx, Path(field, "ctx"), "trace", false, &trace, err)) return false;
  if (!CheckOptionalString(trace, Path(field, "ctx.trace"), "traceId", err)) return false;
  it.ctx.erase("abortSignal");  // a live AbortSignal serialises to {}; it carries nothing
  SerializeItem(&it);

  it.raw_session_key = CtxOrEvent(it, "sessionKey");
  it.session_id = CtxOrEvent(it, "sessionId");
  it.agent_id = CtxOrEvent(it, "agentId");
  it.run_id = CtxOrEvent(it, "runId");
  it.tool_call_id = CtxOrEvent(it, "toolCallId");
  it.tool_name = CtxOrEvent(it, "toolName");
  it.trace_id = GetString(trace, {"traceId"});
  if (!it.raw_session_key.empty()) {
    it.session_key = it.raw_session_key;
  } else if (!it.session_id.empty()) {
    it.session_key = "id:" + it.session_id;
  }
  if (it.session_key.empty() && HookNeedsSession(it.hook)) {
    *err = Invalid(Path(field, "ctx"), "has neither sessionKey nor sessionId: " + it.hook +
                                           " needs the session it belongs to (as OpenClaw passes it)");
    return false;
  }
  if (it.tool_name.empty() && (it.hook == "before_tool_call" || it.hook == "after_tool_call")) {
    *err = Invalid(Path(field, "event.toolName"), "is missing: " + it.hook +
                                                      " needs the tool's name (event.toolName or ctx.toolName)");
    return false;
  }
  *out = std::move(it);
  return true;
}

bool ParseOpenClawBody(Json body, int64_t now_ms, size_t max_items,
                       std::vector<OpenClawItem>* out, FieldError* err) {
  out->clear();
  if (body.is_object()) {
    out->emplace_back();
    return ParseOpenClawItem(std::move(body), "", now_ms, &out->back(), err);
  }
  if (!body.is_array()) {
    *err = Invalid("", "body must be an event object or an array of them");
    return false;
  }
  if (body.empty()) {
    *err = Invalid("", "body is an empty array");
    return false;
  }
  if (body.size() > max_items) {
    *err = Invalid("", "more than " + std::to_string(max_items) + " events in one request");
    return false;
  }
  out->reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    out->emplace_back();
    if (!ParseOpenClawItem(std::move(body[i]), Path("", i), now_ms, &out->back(), err)) return false;
  }
  return true;
}

SessionState SessionStateFromConversation(const ledger::Conversation& c) {
  SessionState st;
  st.conversation_id = c.id;
  st.open = !c.ended_at_ms.has_value() && c.status == "active";
  st.announced = true;  // unknown after a restart; never adopt on a late session_start
  for (const auto& e : c.external_ids) {
    st.external_ids.insert({e.kind, e.value});
    if (e.kind == kExtSessionId) st.session_id = e.value;
  }
  return st;
}

std::optional<Uuid> MapOpenClawItem(OpenClawItem& item, std::optional<SessionState>* state,
                                    const std::function<Uuid()>& new_id,
                                    ledger::WriteBatch* batch) {
  std::optional<Uuid> conversation;
  if (!item.session_key.empty()) {
    std::optional<Uuid> previous;
    if (*state) previous = (*state)->conversation_id;
    if (item.hook == "session_start") {
      SessionState* st = state->has_value() ? &**state : nullptr;
      if (st && st->open && !st->announced && st->session_id == item.session_id) {
        st->announced = true;  // a late start for a conversation its first event opened
      } else {
        if (st && st->open) Close(item, "superseded", st, batch);
        Open(item, previous, true, new_id, state, batch);
      }
    } else if (item.hook == "session_end") {
      if (!*state) Open(item, std::nullopt, false, new_id, state, batch);
      if ((*state)->open) Close(item, EndStatusFor(item), &**state, batch);
    } else if (!*state || !(*state)->open) {
      Open(item, previous, false, new_id, state, batch);
    }
    SessionState* st = &**state;
    conversation = st->conversation_id;
    // A sessionId first seen on a later event (or after a change) is recorded too.
    AddExternal(st->conversation_id, kExtSessionId, item.session_id, st, batch);
    AddExternal(st->conversation_id, kExtRunId, item.run_id, st, batch);
    AddExternal(st->conversation_id, kExtTraceId, item.trace_id, st, batch);
    if (item.hook == "before_tool_call" || item.hook == "after_tool_call")
      MapToolCall(item, st, new_id, batch);
  }

  ledger::Event e;
  e.id = new_id();
  e.conversation_id = conversation;
  e.kind = ledger::kOpenClawPrefix + item.hook;
  e.time_ms = item.time_ms;
  e.actor = item.agent_id.empty() ? "openclaw" : "openclaw:" + item.agent_id;
  // The item is spent here: its trees move into the event instead of being copied.
  e.attributes = Json::object();
  e.attributes["hook"] = item.hook;
  e.attributes["event"] = std::move(item.event);
  e.attributes["ctx"] = std::move(item.ctx);
  e.attributes_text = std::move(item.attributes_text);
  batch->Add(std::move(e));
  return conversation;
}

}  // namespace clawback::record
