#include "common/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

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

// Issue 12, item 3: a typo in the PostgreSQL URL's key silently fell back to SQLite.
TEST(Config, UnknownKeysAndSectionsAreErrorsNamingTheNearestKnownKey) {
  auto typo = Config::Parse("[ledger]\nulr = \"postgresql://x@h/db\"\n", "/d/config.toml", "/d");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(typo.status().message(), "/d/config.toml:2: ledger.ulr: unknown key (did you mean url?)");

  auto section = Config::Parse("[ledgr]\nurl = \"\"\n", "c.toml", "/d");
  ASSERT_FALSE(section.ok());
  EXPECT_EQ(section.status().message(), "c.toml:1: unknown section [ledgr] (did you mean [ledger]?)");

  auto nested = Config::Parse("[telemetry.otpl]\nendpoint = \"http://x\"\n", "c.toml", "/d");
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.status().message(),
            "c.toml:1: unknown section [telemetry.otpl] (did you mean [telemetry.otlp]?)");

  auto far = Config::Parse("[server]\ncolour = \"blue\"\n", "c.toml", "/d");
  ASSERT_FALSE(far.ok());
  EXPECT_NE(far.status().message().find("server.colour: unknown key; [server] takes: listen"),
            std::string::npos)
      << far.status().message();

  auto root = Config::Parse("listen = \"127.0.0.1:1\"\n", "c.toml", "/d");
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().message(),
            "c.toml:1: listen: unknown key outside any section (did you mean listen under [server]?)");

  auto dotted = Config::Parse("[telemetry]\notlp.endpont = \"http://x\"\n", "c.toml", "/d");
  ASSERT_FALSE(dotted.ok());
  EXPECT_NE(dotted.status().message().find("telemetry.otlp.endpont: unknown key (did you mean endpoint?)"),
            std::string::npos)
      << dotted.status().message();
}

TEST(Config, EveryKnownKeyParsesAndIsDocumented) {
  // Each key KnownConfigKeys() lists is accepted in a file, and docs/config.md names it.
  std::string docs;
  {
    const char* root = std::getenv("CLAWBACK_SOURCE_DIR");
    ASSERT_NE(root, nullptr);
    FILE* f = std::fopen((std::string(root) + "/docs/config.md").c_str(), "rb");
    ASSERT_NE(f, nullptr) << "docs/config.md";
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) docs.append(buf, n);
    std::fclose(f);
  }
  for (const auto& key : KnownConfigKeys()) {
    size_t dot = key.rfind('.');
    std::string section = key.substr(0, dot), name = key.substr(dot + 1);
    auto c = Config::Parse("[" + section + "]\n" + name + " = []\n", "c.toml", "/d");
    // The value's type may be wrong for the key; the key itself must not be refused.
    if (!c.ok()) {
      EXPECT_EQ(c.status().message().find("unknown"), std::string::npos) << c.status().message();
    }
    EXPECT_NE(docs.find("[" + section + "]"), std::string::npos) << key << " section not in docs/config.md";
    EXPECT_NE(docs.find("`" + name + "`"), std::string::npos) << key << " not in docs/config.md";
  }
}

}  // namespace
}  // namespace clawback
