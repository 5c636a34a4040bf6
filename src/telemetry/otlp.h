// OTLP trace encoding: clawback's spans as an ExportTraceServiceRequest, in the two
// OTLP/HTTP encodings — binary protobuf ("http/protobuf", the default) and JSON
// ("http/json") — per the OpenTelemetry Protocol specification (opentelemetry-proto,
// trace/v1/trace.proto and collector/trace/v1/trace_service.proto; field numbers are listed
// in docs/format/otlp.md).
//
// The protobuf writer is hand-written for this one message family (no libprotobuf in the
// build); tests decode its output with `protoc --decode` against the schema subset in
// tests/fixtures/otlp/trace_subset.proto.
//
// Thread-safety: pure functions over values.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace clawback::telemetry {

using AttrValue = std::variant<std::string, int64_t, double, bool>;
struct Attribute {
  std::string key;
  AttrValue value;
};

struct SpanLink {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};
  std::vector<Attribute> attributes;
};

enum class SpanKind { kUnspecified = 0, kInternal = 1, kServer = 2, kClient = 3 };
enum class SpanStatus { kUnset = 0, kOk = 1, kError = 2 };

struct Span {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};
  std::array<uint8_t, 8> parent_span_id{};  // all zero: a root span
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  uint64_t start_unix_nanos = 0;
  uint64_t end_unix_nanos = 0;
  std::vector<Attribute> attributes;
  std::vector<SpanLink> links;
  SpanStatus status = SpanStatus::kUnset;
  std::string status_message;
};

struct Resource {
  std::vector<Attribute> attributes;  // e.g. service.name=clawback
};

// ExportTraceServiceRequest{resource_spans: [{resource, scope_spans: [{scope, spans}]}]}.
std::string EncodeTracesProtobuf(const Resource& resource, const std::vector<Span>& spans);
std::string EncodeTracesJson(const Resource& resource, const std::vector<Span>& spans);

}  // namespace clawback::telemetry
