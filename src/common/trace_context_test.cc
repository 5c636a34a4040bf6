#include "common/trace_context.h"

#include <gtest/gtest.h>

namespace clawback {
namespace {

TEST(TraceContext, ParsesTheSpecExample) {
  auto tc = TraceContext::Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(tc.has_value());
  EXPECT_EQ(tc->TraceIdHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(tc->SpanIdHex(), "00f067aa0ba902b7");
  EXPECT_EQ(tc->flags, 1);
  EXPECT_EQ(tc->Format(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
}

TEST(TraceContext, RejectsInvalidValues) {
  for (const char* bad : {
           "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
       }) {
    EXPECT_FALSE(TraceContext::Parse(bad).has_value()) << bad;
  }
  // A future version may carry more fields.
  EXPECT_TRUE(
      TraceContext::Parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what").has_value());
}

TEST(TraceContext, ConversationIsTheTraceId) {
  Uuid id = *Uuid::Parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  TraceContext tc = TraceContext::ForConversation(id);
  EXPECT_EQ(tc.TraceIdHex(), id.ToHex());
  auto back = TraceContext::Parse(tc.Format());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->trace_id, id.bytes());
}

}  // namespace
}  // namespace clawback
