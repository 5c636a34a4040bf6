#include "telemetry/pipeline.h"

#include <openssl/sha.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/version.h"
#include "telemetry/http_post.h"

namespace clawback::telemetry {
namespace {

constexpr size_t kRememberedConversations = 50000;
constexpr size_t kRememberedToolCalls = 50000;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string Truncate(const std::string& s, size_t n) {
  return s.size() <= n ? s : s.substr(0, n) + "…";
}

// "http://host:4318/" + "/v1/traces" -> "http://host:4318/v1/traces"
std::string JoinUrl(std::string base, const char* path) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + path;
}

uint64_t MsToNs(int64_t ms) { return ms > 0 ? static_cast<uint64_t>(ms) * 1'000'000ull : 0; }

std::array<uint8_t, 8> DerivedSpanId(const std::string& seed) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(seed.data()), seed.size(), md);
  std::array<uint8_t, 8> id{};
  for (int i = 0; i < 8; ++i) id[i] = md[i];
  if (id == std::array<uint8_t, 8>{}) id[7] = 1;
  return id;
}

template <size_t N>
bool ParseHexId(const std::string& hex, std::array<uint8_t, N>* out) {
  std::string bytes;
  if (hex.size() != 2 * N || !HexDecode(hex, &bytes)) return false;
  bool nonzero = false;
  for (size_t i = 0; i < N; ++i) {
    (*out)[i] = static_cast<uint8_t>(bytes[i]);
    nonzero |= bytes[i] != 0;
  }
  return nonzero;
}

// A one-line human summary of an event for the log line.
std::string Summarize(const ledger::Event& e) {
  const auto& a = e.attributes;
  if (a.is_object() && a.contains("hook")) {
    std::string s = a.value("hook", "");
    const auto& ev = a.contains("event") && a["event"].is_object() ? a["event"] : ledger::Json::object();
    if (ev.contains("toolName") && ev["toolName"].is_string()) s += " " + ev["toolName"].get<std::string>();
    if (ev.contains("params") && ev["params"].is_object()) {
      const auto& p = ev["params"];
      for (const char* k : {"command", "path", "file_path"})
        if (p.contains(k) && p[k].is_string()) {
          s += ": " + Truncate(p[k].get<std::string>(), 200);
          break;
        }
    }
    if (ev.contains("reason") && ev["reason"].is_string()) s += " (" + ev["reason"].get<std::string>() + ")";
    return s;
  }
  std::string s = e.kind;
  if (a.is_object()) {
    int n = 0;
    for (auto it = a.begin(); it != a.end() && n < 4; ++it, ++n) {
      std::string v = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
      s += " " + it.key() + "=" + Truncate(v, 80);
    }
  }
  return s;
}

Span ChildSpan(const Uuid& conversation, const std::string& seed, std::string name,
               int64_t start_ms, int64_t end_ms) {
  Span s;
  s.trace_id = conversation.bytes();
  s.span_id = DerivedSpanId(seed);
  s.parent_span_id = RootSpanId(conversation);
  s.name = std::move(name);
  s.start_unix_nanos = MsToNs(start_ms);
  s.end_unix_nanos = MsToNs(std::max(end_ms, start_ms));
  s.attributes.push_back({"clawback.conversation.id", conversation.ToString()});
  return s;
}

}  // namespace

std::array<uint8_t, 8> RootSpanId(const Uuid& conversation_id) {
  return DerivedSpanId("clawback-root" + conversation_id.ToHex());
}

Result<TelemetryOptions> ParseTelemetryOptions(const Config& config) {
  TelemetryOptions o;
  ConfigSection t = config.Section("telemetry");
  ASSIGN_OR_RETURN(o.environment, t.GetString("environment", o.environment));
  ConfigSection otlp = t.Sub("otlp");
  ASSIGN_OR_RETURN(o.otlp_endpoint, otlp.GetString("endpoint", ""));
  ASSIGN_OR_RETURN(o.otlp_protocol, otlp.GetString("protocol", o.otlp_protocol));
  if (o.otlp_protocol != "http/protobuf" && o.otlp_protocol != "http/json")
    return otlp.Error("protocol", "must be \"http/protobuf\" or \"http/json\", got \"" +
                                      o.otlp_protocol + "\"");
  if (!o.otlp_endpoint.empty() && o.otlp_endpoint.rfind("http", 0) != 0)
    return otlp.Error("endpoint", "must be an http:// or https:// URL");
  ASSIGN_OR_RETURN(o.loki_url, t.Sub("loki").GetString("url", ""));
  if (!o.loki_url.empty() && o.loki_url.rfind("http", 0) != 0)
    return t.Sub("loki").Error("url", "must be an http:// or https:// URL");
  ConfigSection g = t.Sub("grafana");
  ASSIGN_OR_RETURN(o.grafana_url, g.GetString("url", ""));
  ASSIGN_OR_RETURN(std::string token_file, g.GetString("token_file", ""));
  if (!o.grafana_url.empty()) {
    if (token_file.empty()) return g.Error("token_file", "is required when url is set");
    std::ifstream f(token_file);
    if (!f) return g.Error("token_file", "cannot read " + token_file);
    std::stringstream ss;
    ss << f.rdbuf();
    o.grafana_token = Trim(ss.str());
  }
  ASSIGN_OR_RETURN(int64_t queue, t.GetInt("queue_capacity", 20000));
  if (queue <= 0) return t.Error("queue_capacity", "must be positive");
  o.exporter.queue_capacity = static_cast<size_t>(queue);
  return o;
}

std::string EncodeLokiPush(const std::vector<LogLine>& lines, const std::string& environment) {
  std::map<std::string, ledger::Json> streams;  // by kind
  for (const auto& l : lines) {
    auto& s = streams[l.kind];
    if (s.is_null())
      s = {{"stream", {{"service", "clawback"}, {"kind", l.kind}, {"env", environment}}},
           {"values", ledger::Json::array()}};
    ledger::Json v = ledger::Json::array({std::to_string(l.time_unix_nanos), l.line});
    if (!l.conversation_id.empty()) v.push_back({{"conversation_id", l.conversation_id}});
    s["values"].push_back(std::move(v));
  }
  ledger::Json body = {{"streams", ledger::Json::array()}};
  for (auto& [k, s] : streams) body["streams"].push_back(std::move(s));
  return body.dump();
}

TelemetryPipeline::TelemetryPipeline(TelemetryOptions options, Registry* registry)
    : options_(std::move(options)) {
  resource_.attributes = {{"service.name", std::string("clawback")},
                          {"service.version", std::string(kVersion)},
                          {"deployment.environment.name", options_.environment}};
  if (!options_.otlp_endpoint.empty()) {
    std::string url = JoinUrl(options_.otlp_endpoint, "/v1/traces");
    bool json = options_.otlp_protocol == "http/json";
    std::shared_ptr<http::Client> client = NewExporterClient(options_.exporter.request_timeout);
    Resource res = resource_;
    spans_ = std::make_unique<BatchExporter<Span>>(
        "otlp",
        [client, url, json, res](const std::vector<Span>& batch) {
          std::string body = json ? EncodeTracesJson(res, batch) : EncodeTracesProtobuf(res, batch);
          return PostPayload(*client, url, json ? "application/json" : "application/x-protobuf",
                             std::move(body));
        },
        options_.exporter, registry);
  }
  if (!options_.loki_url.empty()) {
    std::string url = JoinUrl(options_.loki_url, "/loki/api/v1/push");
    std::shared_ptr<http::Client> client = NewExporterClient(options_.exporter.request_timeout);
    std::string env = options_.environment;
    logs_ = std::make_unique<BatchExporter<LogLine>>(
        "loki",
        [client, url, env](const std::vector<LogLine>& batch) {
          return PostPayload(*client, url, "application/json", EncodeLokiPush(batch, env));
        },
        options_.exporter, registry);
  }
  if (!options_.grafana_url.empty()) {
    std::string url = JoinUrl(options_.grafana_url, "/api/annotations");
    std::shared_ptr<http::Client> client = NewExporterClient(options_.exporter.request_timeout);
    std::string auth = "Bearer " + options_.grafana_token;
    ExporterOptions one = options_.exporter;
    one.max_batch = 1;  // the annotations API takes one at a time
    annotations_ = std::make_unique<BatchExporter<Annotation>>(
        "grafana",
        [client, url, auth](const std::vector<Annotation>& batch) {
          for (const auto& a : batch) {
            ledger::Json body = {{"time", a.time_ms}, {"tags", a.tags}, {"text", a.text}};
            if (a.time_end_ms > a.time_ms) body["timeEnd"] = a.time_end_ms;
            RETURN_IF_ERROR(PostPayload(*client, url, "application/json", body.dump(),
                                        {{"Authorization", auth}}));
          }
          return Status::Ok();
        },
        one, registry);
  }
}

TelemetryPipeline::~TelemetryPipeline() = default;

bool TelemetryPipeline::Flush(std::chrono::milliseconds timeout) {
  bool ok = true;
  if (spans_) ok &= spans_->Flush(timeout);
  if (logs_) ok &= logs_->Flush(timeout);
  if (annotations_) ok &= annotations_->Flush(timeout);
  return ok;
}

void TelemetryPipeline::Remember(const std::string& key, ConversationInfo info) {
  auto [it, inserted] = conversations_.emplace(key, info);
  if (!inserted) {
    if (info.started_at_ms) it->second.started_at_ms = info.started_at_ms;
    if (!info.session_key.empty()) it->second.session_key = info.session_key;
    if (!info.title.empty()) it->second.title = info.title;
    return;
  }
  conversation_order_.push_back(key);
  if (conversation_order_.size() > kRememberedConversations) {
    conversations_.erase(conversation_order_.front());
    conversation_order_.pop_front();
  }
}

void TelemetryPipeline::Map(const ledger::WriteBatch& batch, std::vector<Span>* spans,
                            std::vector<LogLine>* logs, std::vector<Annotation>* annotations) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string& env = options_.environment;
  for (const auto& op : batch.ops) {
    if (const auto* c = std::get_if<ledger::Conversation>(&op)) {
      ConversationInfo info;
      info.started_at_ms = c->started_at_ms;
      info.title = c->title;
      for (const auto& x : c->external_ids)
        if (x.kind == "openclaw.session_key") info.session_key = x.value;
      if (info.session_key.empty() && c->attributes.is_object() &&
          c->attributes.contains("session_key") && c->attributes["session_key"].is_string())
        info.session_key = c->attributes["session_key"].get<std::string>();
      Remember(c->id.ToHex(), info);
    } else if (const auto* x = std::get_if<ledger::AddExternalId>(&op)) {
      if (x->external_id.kind == "openclaw.session_key")
        Remember(x->conversation_id.ToHex(), ConversationInfo{0, x->external_id.value, ""});
    } else if (const auto* end = std::get_if<ledger::EndConversation>(&op)) {
      Span s;
      s.trace_id = end->id.bytes();
      s.span_id = RootSpanId(end->id);
      s.name = "conversation";
      s.kind = SpanKind::kServer;
      auto it = conversations_.find(end->id.ToHex());
      int64_t start = it != conversations_.end() && it->second.started_at_ms
                          ? it->second.started_at_ms
                          : end->id.UnixMillis();  // a UUIDv7 carries its creation time
      s.start_unix_nanos = MsToNs(start);
      s.end_unix_nanos = MsToNs(std::max(end->ended_at_ms, start));
      s.attributes.push_back({"clawback.conversation.id", end->id.ToString()});
      s.attributes.push_back({"clawback.conversation.status", end->status});
      if (it != conversations_.end()) {
        if (!it->second.session_key.empty())
          s.attributes.push_back({"openclaw.session_key", it->second.session_key});
        if (!it->second.title.empty()) s.attributes.push_back({"clawback.conversation.title", it->second.title});
      }
      s.status = end->status == "failed" ? SpanStatus::kError : SpanStatus::kOk;
      if (spans) spans->push_back(std::move(s));
    } else if (const auto* e = std::get_if<ledger::Event>(&op)) {
      // OpenClaw's own trace context on a tool hook: remember it for the span link.
      const auto& a = e->attributes;
      if (a.is_object() && a.contains("ctx") && a["ctx"].is_object()) {
        const auto& ctx = a["ctx"];
        std::string tool_call = ctx.contains("toolCallId") && ctx["toolCallId"].is_string()
                                    ? ctx["toolCallId"].get<std::string>()
                                    : "";
        if (!tool_call.empty() && ctx.contains("trace") && ctx["trace"].is_object()) {
          const auto& tr = ctx["trace"];
          ToolTrace tt;
          if (tr.contains("traceId") && tr["traceId"].is_string() &&
              tr.contains("spanId") && tr["spanId"].is_string() &&
              ParseHexId(tr["traceId"].get<std::string>(), &tt.trace_id) &&
              ParseHexId(tr["spanId"].get<std::string>(), &tt.span_id)) {
            if (tool_traces_.emplace(tool_call, tt).second) {
              tool_order_.push_back(tool_call);
              if (tool_order_.size() > kRememberedToolCalls) {
                tool_traces_.erase(tool_order_.front());
                tool_order_.pop_front();
              }
            }
          }
        }
      }
      if (logs) {
        LogLine l;
        l.time_unix_nanos = static_cast<int64_t>(MsToNs(e->time_ms));
        l.kind = e->kind;
        l.conversation_id = e->conversation_id ? e->conversation_id->ToString() : "";
        ledger::Json j = {{"conversation_id", l.conversation_id},
                          {"kind", e->kind},
                          {"summary", Summarize(*e)},
                          {"actor", e->actor},
                          {"event_id", e->id.ToString()}};
        l.line = j.dump();
        logs->push_back(std::move(l));
      }
    } else if (const auto* t = std::get_if<ledger::ToolCall>(&op)) {
      if (!t->finished_at_ms) continue;
      Span s = ChildSpan(t->conversation_id, "tool" + t->conversation_id.ToHex() + t->tool_call_id,
                         "tool_call " + t->name, t->started_at_ms, *t->finished_at_ms);
      if (t->started_at_ms == 0 && t->duration_ms)
        s.start_unix_nanos = MsToNs(*t->finished_at_ms - *t->duration_ms);
      s.attributes.push_back({"clawback.tool.name", t->name});
      s.attributes.push_back({"openclaw.tool_call_id", t->tool_call_id});
      if (t->exit_code) s.attributes.push_back({"process.exit_code", static_cast<int64_t>(*t->exit_code)});
      if (!t->run_id.empty()) s.attributes.push_back({"openclaw.run_id", t->run_id});
      auto cit = conversations_.find(t->conversation_id.ToHex());
      if (cit != conversations_.end() && !cit->second.session_key.empty())
        s.attributes.push_back({"openclaw.session_key", cit->second.session_key});
      s.status = t->status == "error" || t->status == "blocked" ? SpanStatus::kError : SpanStatus::kOk;
      if (!t->error.empty()) s.status_message = Truncate(t->error, 500);
      auto tit = tool_traces_.find(t->tool_call_id);
      if (tit != tool_traces_.end()) {
        SpanLink link;
        link.trace_id = tit->second.trace_id;
        link.span_id = tit->second.span_id;
        link.attributes.push_back({"link.source", std::string("openclaw")});
        s.links.push_back(std::move(link));
      }
      if (spans) spans->push_back(std::move(s));
    } else if (const auto* cmd = std::get_if<ledger::Command>(&op)) {
      if (!cmd->conversation_id || !cmd->exit_code) continue;
      int64_t end_ms = cmd->started_at_ms + cmd->duration_ms.value_or(0);
      Span s = ChildSpan(*cmd->conversation_id, "cmd" + cmd->id.ToHex(), "command",
                         cmd->started_at_ms, end_ms);
      std::string line;
      for (const auto& a : cmd->argv) line += (line.empty() ? "" : " ") + a;
      s.attributes.push_back({"process.command_line", Truncate(line, 1000)});
      s.attributes.push_back({"process.exit_code", static_cast<int64_t>(*cmd->exit_code)});
      if (!cmd->cwd.empty()) s.attributes.push_back({"process.working_directory", cmd->cwd});
      s.status = *cmd->exit_code == 0 ? SpanStatus::kOk : SpanStatus::kError;
      if (spans) spans->push_back(std::move(s));
    } else if (const auto* d = std::get_if<ledger::Deployment>(&op)) {
      if (!d->finished_at_ms) continue;
      const std::string& denv = d->environment.empty() ? env : d->environment;
      if (d->conversation_id) {
        Span s = ChildSpan(*d->conversation_id, "deploy" + d->id.ToHex(), "deployment " + denv,
                           d->started_at_ms, *d->finished_at_ms);
        s.attributes.push_back({"deployment.environment.name", denv});
        s.attributes.push_back({"deployment.id", d->id.ToString()});
        if (!d->commit_sha.empty()) s.attributes.push_back({"vcs.ref.head.revision", d->commit_sha});
        s.attributes.push_back({"deployment.status", d->status});
        s.status = d->status == "succeeded" ? SpanStatus::kOk : SpanStatus::kError;
        if (spans) spans->push_back(std::move(s));
      }
      if (annotations)
        annotations->push_back({d->started_at_ms, *d->finished_at_ms,
                                {"clawback", "deployment", denv, d->status},
                                "deployment " + d->id.ToString() + " of " +
                                    (d->commit_sha.empty() ? "?" : d->commit_sha) + " to " + denv +
                                    ": " + d->status +
                                    (d->conversation_id ? " (conversation " +
                                                              d->conversation_id->ToString() + ")"
                                                        : "")});
    } else if (const auto* snap = std::get_if<ledger::SnapshotRecord>(&op)) {
      if (!snap->conversation_id) continue;
      int64_t dur = snap->stats.is_object() && snap->stats.contains("duration_ms") &&
                            snap->stats["duration_ms"].is_number()
                        ? snap->stats["duration_ms"].get<int64_t>()
                        : 0;
      Span s = ChildSpan(*snap->conversation_id, "snap" + snap->snapshot_id,
                         "snapshot " + snap->reason, snap->time_ms - dur, snap->time_ms);
      s.attributes.push_back({"clawback.snapshot.id", snap->snapshot_id});
      s.attributes.push_back({"clawback.snapshot.reason", snap->reason});
      s.status = SpanStatus::kOk;
      if (spans) spans->push_back(std::move(s));
    } else if (const auto* b = std::get_if<ledger::BackupRecord>(&op)) {
      if (!b->finished_at_ms) continue;
      // Backups run outside any conversation: their own trace, keyed by the record's id.
      Span s;
      s.trace_id = b->id.bytes();
      s.span_id = DerivedSpanId("backup" + b->id.ToHex());
      s.name = "backup." + b->job;
      s.start_unix_nanos = MsToNs(b->started_at_ms);
      s.end_unix_nanos = MsToNs(*b->finished_at_ms);
      s.attributes.push_back({"clawback.job", b->job});
      if (!b->snapshot_id.empty()) s.attributes.push_back({"clawback.snapshot.id", b->snapshot_id});
      s.status = b->status == "succeeded" ? SpanStatus::kOk : SpanStatus::kError;
      if (spans) spans->push_back(std::move(s));
    } else if (const auto* r = std::get_if<ledger::RollbackRecord>(&op)) {
      if (!r->finished_at_ms) continue;
      Uuid trace = r->conversation_id.value_or(r->id);
      Span s = ChildSpan(trace, "rollback" + r->id.ToHex(), "rollback " + r->mode, r->started_at_ms,
                         *r->finished_at_ms);
      s.attributes.push_back({"clawback.rollback.id", r->id.ToString()});
      s.attributes.push_back({"clawback.rollback.target", r->target_kind + ":" + r->target});
      s.attributes.push_back({"clawback.rollback.status", r->status});
      s.status = r->status == "succeeded" ? SpanStatus::kOk : SpanStatus::kError;
      if (spans) spans->push_back(std::move(s));
      if (annotations)
        annotations->push_back({r->started_at_ms, *r->finished_at_ms,
                                {"clawback", "rollback", r->mode, r->status},
                                r->mode + " rollback of " + r->target_kind + " " + r->target + ": " +
                                    r->status});
    }
  }
}

void TelemetryPipeline::OnCommitted(const ledger::WriteBatch& batch) {
  std::vector<Span> spans;
  std::vector<LogLine> logs;
  std::vector<Annotation> annotations;
  Map(batch, spans_ ? &spans : nullptr, logs_ ? &logs : nullptr,
      annotations_ ? &annotations : nullptr);
  for (auto& s : spans) spans_->Enqueue(std::move(s));
  for (auto& l : logs) logs_->Enqueue(std::move(l));
  for (auto& a : annotations) annotations_->Enqueue(std::move(a));
}

}  // namespace clawback::telemetry
