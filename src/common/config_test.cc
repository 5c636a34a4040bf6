#include "common/config.h"

#include <gtest/gtest.h>

namespace clawback {
namespace {

TEST(Config, DefaultsResolveAgainstTheDataDir) {
  Config c = Config::Defaults("/d");
  EXPECT_EQ(c.server.listen, "127.0.0.1:18800");
  EXPECT_EQ(c.LedgerUrl(), "sqlite:/d/ledger.db");
  EXPECT_EQ(c.RepositoryUrl(), "/d/repo");
  EXPECT_EQ(c.RepositoryPasswordFile(), "/d/repo-password");
}

TEST(Config, TheWrittenDefaultFileParses) {
  auto c = Config::Parse(DefaultConfigText("/d/repo", "/d/pw"), "config.toml", "/d");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.max_body_bytes, 1 << 20);
  EXPECT_EQ(c->RepositoryUrl(), "/d/repo");
  EXPECT_EQ(c->RepositoryPasswordFile(), "/d/pw");
}

TEST(Config, ErrorsNameFileKeyAndProblem) {
  auto c = Config::Parse("[server]\nlisten = 5\n", "/etc/c.toml", "/d");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "/etc/c.toml: server.listen: expected a string, got an integer");
  auto syntax = Config::Parse("[server\n", "c.toml", "/d");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.status().message().find("c.toml:1:"), std::string::npos)
      << syntax.status().message();
  auto arr = Config::Parse("[repository]\nmanaged_paths = [\"/a\", 3]\n", "c.toml", "/d");
  ASSERT_FALSE(arr.ok());
  EXPECT_NE(arr.status().message().find("repository.managed_paths: element 1"), std::string::npos);
}

TEST(Config, SectionsForOtherSubsystems) {
  auto c = Config::Parse("[telemetry.otlp]\nendpoint = \"http://127.0.0.1:4318\"\n", "c.toml", "/d");
  ASSERT_TRUE(c.ok());
  ConfigSection s = c->Section("telemetry.otlp");
  EXPECT_TRUE(s.present());
  EXPECT_EQ(*s.GetString("endpoint", ""), "http://127.0.0.1:4318");
  EXPECT_EQ(*s.GetString("protocol", "http/protobuf"), "http/protobuf");
  EXPECT_FALSE(c->Section("telemetry.loki").present());
  auto bad = s.GetInt("endpoint", 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "c.toml: telemetry.otlp.endpoint: expected an integer, got a string");
}

}  // namespace
}  // namespace clawback
