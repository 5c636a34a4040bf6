#include "cli/exec_env.h"

#include <gtest/gtest.h>

namespace clawback::cli {
namespace {

TEST(OtelResourceAttributesWith, AppendsAndReplaces) {
  const std::string id = "0190f3a2-7c1e-7d41-9a2b-1c2d3e4f5a6b";
  EXPECT_EQ(OtelResourceAttributesWith("", id), "clawback.conversation.id=" + id);
  EXPECT_EQ(OtelResourceAttributesWith("service.name=api,env=prod", id),
            "service.name=api,env=prod,clawback.conversation.id=" + id);
  EXPECT_EQ(OtelResourceAttributesWith("clawback.conversation.id=old,service.name=api", id),
            "service.name=api,clawback.conversation.id=" + id);
  EXPECT_EQ(OtelResourceAttributesWith("a=1,,b=2", id), "a=1,b=2,clawback.conversation.id=" + id);
}

}  // namespace
}  // namespace clawback::cli
