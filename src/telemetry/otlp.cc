#include "telemetry/otlp.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "common/uuid.h"
#include "common/version.h"

namespace clawback::telemetry {
namespace {

// --- a minimal protobuf writer (wire types 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32)

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutTag(std::string* out, int field, int wire_type) {
  PutVarint(out, (static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire_type));
}

void PutBytes(std::string* out, int field, const void* data, size_t n) {
  PutTag(out, field, 2);
  PutVarint(out, n);
  out->append(static_cast<const char*>(data), n);
}

void PutString(std::string* out, int field, const std::string& s) {
  if (!s.empty()) PutBytes(out, field, s.data(), s.size());
}

void PutMessage(std::string* out, int field, const std::string& msg) {
  PutBytes(out, field, msg.data(), msg.size());
}

void PutUint(std::string* out, int field, uint64_t v) {
  if (v == 0) return;
  PutTag(out, field, 0);
  PutVarint(out, v);
}

void PutFixed64(std::string* out, int field, uint64_t v) {
  if (v == 0) return;
  PutTag(out, field, 1);
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

void PutFixed32(std::string* out, int field, uint32_t v) {
  if (v == 0) return;
  PutTag(out, field, 5);
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& a) {
  for (uint8_t b : a)
    if (b) return false;
  return true;
}

// AnyValue: string_value 1, bool_value 2, int_value 3, double_value 4.
std::string EncodeAnyValue(const AttrValue& v) {
  std::string out;
  if (const auto* s = std::get_if<std::string>(&v)) {
    PutBytes(&out, 1, s->data(), s->size());  // present even when empty
  } else if (const auto* b = std::get_if<bool>(&v)) {
    PutTag(&out, 2, 0);
    PutVarint(&out, *b ? 1 : 0);
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    PutTag(&out, 3, 0);
    PutVarint(&out, static_cast<uint64_t>(*i));
  } else {
    double d = std::get<double>(v);
    uint64_t bits;
    std::memcpy(&bits, &d, 8);
    PutTag(&out, 4, 1);
    for (int k = 0; k < 8; ++k) out.push_back(static_cast<char>(bits >> (8 * k)));
  }
  return out;
}

// KeyValue: key 1, value 2.
std::string EncodeKeyValue(const Attribute& a) {
  std::string out;
  PutString(&out, 1, a.key);
  PutMessage(&out, 2, EncodeAnyValue(a.value));
  return out;
}

// Link: trace_id 1, span_id 2, attributes 4.
std::string EncodeLink(const SpanLink& l) {
  std::string out;
  PutBytes(&out, 1, l.trace_id.data(), 16);
  PutBytes(&out, 2, l.span_id.data(), 8);
  for (const auto& a : l.attributes) PutMessage(&out, 4, EncodeKeyValue(a));
  return out;
}

// Span: trace_id 1, span_id 2, parent_span_id 4, name 5, kind 6, start 7, end 8,
// attributes 9, links 13, status 15 (Status: message 2, code 3), flags 16.
std::string EncodeSpan(const Span& s) {
  std::string out;
  PutBytes(&out, 1, s.trace_id.data(), 16);
  PutBytes(&out, 2, s.span_id.data(), 8);
  if (!AllZero(s.parent_span_id)) PutBytes(&out, 4, s.parent_span_id.data(), 8);
  PutString(&out, 5, s.name);
  PutUint(&out, 6, static_cast<uint64_t>(s.kind));
  PutFixed64(&out, 7, s.start_unix_nanos);
  PutFixed64(&out, 8, s.end_unix_nanos);
  for (const auto& a : s.attributes) PutMessage(&out, 9, EncodeKeyValue(a));
  for (const auto& l : s.links) PutMessage(&out, 13, EncodeLink(l));
  if (s.status != SpanStatus::kUnset || !s.status_message.empty()) {
    std::string st;
    PutString(&st, 2, s.status_message);
    PutUint(&st, 3, static_cast<uint64_t>(s.status));
    PutMessage(&out, 15, st);
  }
  PutFixed32(&out, 16, 0x100 | 0x01);  // HAS_IS_REMOTE, not remote; sampled
  return out;
}

nlohmann::json AnyValueJson(const AttrValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return {{"stringValue", *s}};
  if (const auto* b = std::get_if<bool>(&v)) return {{"boolValue", *b}};
  // OTLP/JSON follows the proto3 JSON mapping: 64-bit integers are decimal strings.
  if (const auto* i = std::get_if<int64_t>(&v)) return {{"intValue", std::to_string(*i)}};
  return {{"doubleValue", std::get<double>(v)}};
}

nlohmann::json AttributesJson(const std::vector<Attribute>& attrs) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& a : attrs) arr.push_back({{"key", a.key}, {"value", AnyValueJson(a.value)}});
  return arr;
}

}  // namespace

std::string EncodeTracesProtobuf(const Resource& resource, const std::vector<Span>& spans) {
  std::string res;
  for (const auto& a : resource.attributes) PutMessage(&res, 1, EncodeKeyValue(a));
  std::string scope;  // InstrumentationScope: name 1, version 2
  PutString(&scope, 1, "clawback");
  PutString(&scope, 2, kVersion);
  std::string scope_spans;  // ScopeSpans: scope 1, spans 2
  PutMessage(&scope_spans, 1, scope);
  for (const auto& s : spans) PutMessage(&scope_spans, 2, EncodeSpan(s));
  std::string resource_spans;  // ResourceSpans: resource 1, scope_spans 2
  PutMessage(&resource_spans, 1, res);
  PutMessage(&resource_spans, 2, scope_spans);
  std::string request;  // ExportTraceServiceRequest: resource_spans 1
  PutMessage(&request, 1, resource_spans);
  return request;
}

std::string EncodeTracesJson(const Resource& resource, const std::vector<Span>& spans) {
  nlohmann::json js = nlohmann::json::array();
  for (const auto& s : spans) {
    // OTLP/JSON: trace and span ids are hex strings, not base64; enums are integers.
    nlohmann::json j = {
        {"traceId", HexEncode(s.trace_id.data(), 16)},
        {"spanId", HexEncode(s.span_id.data(), 8)},
        {"name", s.name},
        {"kind", static_cast<int>(s.kind)},
        {"startTimeUnixNano", std::to_string(s.start_unix_nanos)},
        {"endTimeUnixNano", std::to_string(s.end_unix_nanos)},
        {"attributes", AttributesJson(s.attributes)},
        {"flags", 0x101},
    };
    if (!AllZero(s.parent_span_id)) j["parentSpanId"] = HexEncode(s.parent_span_id.data(), 8);
    if (!s.links.empty()) {
      nlohmann::json links = nlohmann::json::array();
      for (const auto& l : s.links)
        links.push_back({{"traceId", HexEncode(l.trace_id.data(), 16)},
                         {"spanId", HexEncode(l.span_id.data(), 8)},
                         {"attributes", AttributesJson(l.attributes)}});
      j["links"] = links;
    }
    if (s.status != SpanStatus::kUnset || !s.status_message.empty()) {
      nlohmann::json st = {{"code", static_cast<int>(s.status)}};
      if (!s.status_message.empty()) st["message"] = s.status_message;
      j["status"] = st;
    }
    js.push_back(std::move(j));
  }
  nlohmann::json body = {
      {"resourceSpans",
       {{{"resource", {{"attributes", AttributesJson(resource.attributes)}}},
         {"scopeSpans",
          {{{"scope", {{"name", "clawback"}, {"version", kVersion}}}, {"spans", js}}}}}}}};
  return body.dump();
}

}  // namespace clawback::telemetry
