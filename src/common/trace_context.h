// W3C Trace Context (https://www.w3.org/TR/trace-context/), the `traceparent` header:
//   version "-" trace-id "-" parent-id "-" trace-flags
//   00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
// clawback uses the conversation's 16 UUID bytes as the trace id.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/uuid.h"

namespace clawback {

struct TraceContext {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};
  uint8_t flags = 0x01;  // sampled

  // Parses a traceparent value. Rejects all-zero ids, version ff, uppercase hex and a
  // wrong shape, as the spec requires; accepts future versions with extra fields.
  static std::optional<TraceContext> Parse(std::string_view traceparent);
  // A context in the conversation's trace with a fresh random span id.
  static TraceContext ForConversation(const Uuid& conversation_id);

  std::string Format() const;  // version 00
  std::string TraceIdHex() const;
  std::string SpanIdHex() const;
};

// A fresh non-zero random span id.
std::array<uint8_t, 8> NewSpanId();

}  // namespace clawback
