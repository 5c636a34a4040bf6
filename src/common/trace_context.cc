#include "common/trace_context.h"

namespace clawback {
namespace {

bool LowerHex(std::string_view s, uint8_t* out, size_t n) {
  if (s.size() != 2 * n) return false;
  for (size_t i = 0; i < 2 * n; ++i) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  std::string bytes;
  if (!HexDecode(s, &bytes)) return false;
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(bytes[i]);
  return true;
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& a) {
  for (uint8_t x : a)
    if (x) return false;
  return true;
}

}  // namespace

std::optional<TraceContext> TraceContext::Parse(std::string_view s) {
  // Fixed part: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 characters.
  if (s.size() < 55) return std::nullopt;
  uint8_t version;
  if (!LowerHex(s.substr(0, 2), &version, 1) || version == 0xff) return std::nullopt;
  if (s[2] != '-' || s[35] != '-' || s[52] != '-') return std::nullopt;
  if (version == 0 && s.size() != 55) return std::nullopt;
  if (version != 0 && s.size() > 55 && s[55] != '-') return std::nullopt;
  TraceContext tc;
  if (!LowerHex(s.substr(3, 32), tc.trace_id.data(), 16)) return std::nullopt;
  if (!LowerHex(s.substr(36, 16), tc.span_id.data(), 8)) return std::nullopt;
  if (!LowerHex(s.substr(53, 2), &tc.flags, 1)) return std::nullopt;
  if (AllZero(tc.trace_id) || AllZero(tc.span_id)) return std::nullopt;
  return tc;
}

std::array<uint8_t, 8> NewSpanId() {
  std::array<uint8_t, 8> id{};
  do {
    RandomBytes(id.data(), id.size());
  } while (AllZero(id));
  return id;
}

TraceContext TraceContext::ForConversation(const Uuid& conversation_id) {
  TraceContext tc;
  tc.trace_id = conversation_id.bytes();
  tc.span_id = NewSpanId();
  return tc;
}

std::string TraceContext::TraceIdHex() const { return HexEncode(trace_id.data(), 16); }
std::string TraceContext::SpanIdHex() const { return HexEncode(span_id.data(), 8); }

std::string TraceContext::Format() const {
  return "00-" + TraceIdHex() + "-" + SpanIdHex() + "-" + HexEncode(&flags, 1);
}

}  // namespace clawback
