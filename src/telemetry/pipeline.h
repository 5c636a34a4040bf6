// TelemetryPipeline: turns what the ledger committed into traces (OTLP/HTTP), log lines
// (Loki push) and Grafana annotations, keyed by conversation.
//
// Correlation (../shared/docs/architecture.md, "Identity and correlation"):
//   - a conversation's 16 UUID bytes are its trace id; its root span ("conversation") is
//     sent when the conversation ends, with a span id derived from the conversation id so
//     child spans sent earlier already point at it;
//   - tool calls, commands, deployments, snapshots, backups and rollbacks become child
//     spans when they finish; a tool call whose hook carried OpenClaw's own trace context
//     (ctx.trace.traceId/spanId) gets an OTLP span link to it;
//   - every ledger event becomes one Loki line: JSON {conversation_id, kind, summary, …},
//     labels {service, kind, env} only (low cardinality), conversation_id also as Loki 3
//     structured metadata;
//   - finished deployments and rollbacks become Grafana annotations when [telemetry.grafana]
//     is configured.
// Each exporter has its own bounded queue (BatchExporter): a dead collector costs a
// dropped-items counter, never ingest latency.
//
// Config:
//   [telemetry]         environment = "default"   (the `env` label, deployment.environment.name fallback)
//   [telemetry.otlp]    endpoint = "http://HOST:4318", protocol = "http/protobuf" | "http/json"
//   [telemetry.loki]    url = "http://HOST:3100"
//   [telemetry.grafana] url = "http://HOST:3000", token_file = "/path/to/token"
//
// Thread-safety: OnCommitted may be called from any thread.
#pragma once

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/config.h"
#include "ledger/ledger.h"
#include "telemetry/batch_exporter.h"
#include "telemetry/metrics.h"
#include "telemetry/otlp.h"

namespace clawback::telemetry {

struct TelemetryOptions {
  std::string environment = "default";
  std::string otlp_endpoint;  // empty: no traces
  std::string otlp_protocol = "http/protobuf";
  std::string loki_url;       // empty: no logs
  std::string grafana_url;    // empty: no annotations
  std::string grafana_token;
  ExporterOptions exporter;
  bool enabled() const {
    return !otlp_endpoint.empty() || !loki_url.empty() || !grafana_url.empty();
  }
};

// Reads the [telemetry…] sections; errors name the key.
Result<TelemetryOptions> ParseTelemetryOptions(const Config& config);

// One Loki line.
struct LogLine {
  int64_t time_unix_nanos = 0;
  std::string kind;
  std::string line;  // JSON text
  std::string conversation_id;
};

struct Annotation {
  int64_t time_ms = 0;
  int64_t time_end_ms = 0;
  std::vector<std::string> tags;
  std::string text;
};

// The Loki push body (JSON) for a batch of lines.
std::string EncodeLokiPush(const std::vector<LogLine>& lines, const std::string& environment);

// The root span id of a conversation: the first 8 bytes of SHA-256("clawback-root" ‖ id).
std::array<uint8_t, 8> RootSpanId(const Uuid& conversation_id);

class TelemetryPipeline {
 public:
  TelemetryPipeline(TelemetryOptions options, Registry* registry);
  ~TelemetryPipeline();

  // Maps one committed batch and queues what it yields. Cheap; never blocks on I/O.
  void OnCommitted(const ledger::WriteBatch& batch);

  // The mapping alone (tests): what OnCommitted would queue for `batch`.
  void Map(const ledger::WriteBatch& batch, std::vector<Span>* spans, std::vector<LogLine>* logs,
           std::vector<Annotation>* annotations);

  // Waits until everything queued so far was sent (or dropped).
  bool Flush(std::chrono::milliseconds timeout);

 private:
  struct ConversationInfo {
    int64_t started_at_ms = 0;
    std::string session_key;
    std::string title;
  };
  struct ToolTrace {
    std::array<uint8_t, 16> trace_id{};
    std::array<uint8_t, 8> span_id{};
  };
  void Remember(const std::string& key, ConversationInfo info);

  TelemetryOptions options_;
  Resource resource_;
  std::mutex mu_;
  std::unordered_map<std::string, ConversationInfo> conversations_;  // GUARDED_BY(mu_), hex id
  std::deque<std::string> conversation_order_;                       // GUARDED_BY(mu_)
  std::unordered_map<std::string, ToolTrace> tool_traces_;           // GUARDED_BY(mu_)
  std::deque<std::string> tool_order_;                               // GUARDED_BY(mu_)
  std::unique_ptr<BatchExporter<Span>> spans_;
  std::unique_ptr<BatchExporter<LogLine>> logs_;
  std::unique_ptr<BatchExporter<Annotation>> annotations_;
};

}  // namespace clawback::telemetry
