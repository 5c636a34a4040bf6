#include "telemetry/otlp.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/testing/temp_dir.h"
#include "common/uuid.h"

namespace clawback::telemetry {
namespace {

Span SampleSpan() {
  Uuid conv = *Uuid::Parse("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  Span s;
  s.trace_id = conv.bytes();
  s.span_id = {1, 2, 3, 4, 5, 6, 7, 8};
  s.parent_span_id = {9, 9, 9, 9, 9, 9, 9, 9};
  s.name = "tool_call exec";
  s.start_unix_nanos = 1795746721646000000ull;
  s.end_unix_nanos = 1795746721946000000ull;
  s.attributes = {{"clawback.conversation.id", conv.ToString()},
                  {"process.exit_code", int64_t{-3}},
                  {"ratio", 0.5},
                  {"ok", true}};
  SpanLink l;
  l.trace_id = {0xa5, 0x47, 0x5f, 0xa1, 0x10, 0xf5, 0xe1, 0x02, 0x41, 0x81, 0xb1, 0x32, 0x14, 0x72, 0x42, 0x14};
  l.span_id = {0x39, 0xdc, 0xd9, 0x1a, 0x8b, 0x2d, 0x11, 0x6d};
  s.links.push_back(l);
  s.status = SpanStatus::kError;
  s.status_message = "exit 3";
  return s;
}

std::string RunCommand(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// Decodes our protobuf bytes with protoc against the published field numbers.
TEST(OtlpProtobuf, DecodesWithProtocAgainstTheSchema) {
  const char* src = std::getenv("CLAWBACK_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  if (std::system("command -v protoc >/dev/null 2>&1") != 0) GTEST_SKIP() << "protoc not installed";
  Resource r{{{"service.name", std::string("clawback")}}};
  std::string bytes = EncodeTracesProtobuf(r, {SampleSpan()});
  test::TempDir tmp("clawback-otlp-test");
  std::string path = tmp.File("otlp.bin");
  std::ofstream(path, std::ios::binary) << bytes;
  std::string fixtures = std::string(src) + "/tests/fixtures/otlp";
  std::string text = RunCommand("protoc --proto_path=" + fixtures +
                         " --decode=otlpsubset.ExportTraceServiceRequest trace_subset.proto < " +
                         path + " 2>&1");
  // Ids as protoc prints bytes (octal escapes), names and values by field name.
  EXPECT_NE(text.find("name: \"tool_call exec\""), std::string::npos) << text;
  EXPECT_NE(text.find("string_value: \"clawback\""), std::string::npos) << text;
  EXPECT_NE(text.find("key: \"clawback.conversation.id\""), std::string::npos) << text;
  EXPECT_NE(text.find("string_value: \"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\""), std::string::npos) << text;
  EXPECT_NE(text.find("int_value: -3"), std::string::npos) << text;
  EXPECT_NE(text.find("double_value: 0.5"), std::string::npos) << text;
  EXPECT_NE(text.find("bool_value: true"), std::string::npos) << text;
  EXPECT_NE(text.find("start_time_unix_nano: 1795746721646000000"), std::string::npos) << text;
  EXPECT_NE(text.find("end_time_unix_nano: 1795746721946000000"), std::string::npos) << text;
  EXPECT_NE(text.find("trace_id: \"\\001\\223\\241\\262\\303\\324~_\\212\\233\\014\\035.?J["), std::string::npos) << text;
  EXPECT_NE(text.find("parent_span_id: \"\\t\\t\\t\\t\\t\\t\\t\\t\""), std::string::npos) << text;
  EXPECT_NE(text.find("links {"), std::string::npos) << text;
  EXPECT_NE(text.find("code: 2"), std::string::npos) << text;
  EXPECT_NE(text.find("message: \"exit 3\""), std::string::npos) << text;
  EXPECT_NE(text.find("kind: 1"), std::string::npos) << text;
  EXPECT_NE(text.find("name: \"clawback\""), std::string::npos) << text;  // the scope
  // protoc must not have found unknown fields or failed.
  EXPECT_EQ(text.find("Failed"), std::string::npos) << text;
  EXPECT_EQ(text.find("\n1: "), std::string::npos) << text;
}

TEST(OtlpJson, UsesHexIdsAndCamelCase) {
  Resource r{{{"service.name", std::string("clawback")}}};
  auto j = nlohmann::json::parse(EncodeTracesJson(r, {SampleSpan()}));
  const auto& rs = j["resourceSpans"][0];
  EXPECT_EQ(rs["resource"]["attributes"][0]["key"], "service.name");
  const auto& span = rs["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(span["traceId"], "0193a1b2c3d47e5f8a9b0c1d2e3f4a5b");
  EXPECT_EQ(span["spanId"], "0102030405060708");
  EXPECT_EQ(span["parentSpanId"], "0909090909090909");
  EXPECT_EQ(span["startTimeUnixNano"], "1795746721646000000");
  EXPECT_EQ(span["kind"], 1);
  EXPECT_EQ(span["attributes"][1]["value"]["intValue"], "-3");
  EXPECT_EQ(span["links"][0]["traceId"], "a5475fa110f5e1024181b13214724214");
  EXPECT_EQ(span["status"]["code"], 2);
}

TEST(OtlpProtobuf, RootSpanOmitsParent) {
  Span s = SampleSpan();
  s.parent_span_id = {};
  s.links.clear();
  std::string with = EncodeTracesProtobuf({}, {SampleSpan()});
  std::string without = EncodeTracesProtobuf({}, {s});
  EXPECT_LT(without.size(), with.size());
  // Field 4 (parent_span_id), wire type 2, length 8: tag byte 0x22 then 0x08.
  EXPECT_EQ(without.find(std::string("\x22\x08\x09\x09", 4)), std::string::npos);
  EXPECT_NE(with.find(std::string("\x22\x08\x09\x09", 4)), std::string::npos);
}

}  // namespace
}  // namespace clawback::telemetry
