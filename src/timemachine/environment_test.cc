#include "timemachine/environment.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "timemachine/env_check.h"

namespace clawback::timemachine {
namespace {

Result<std::vector<Environment>> Load(const std::string& toml) {
  ASSIGN_OR_RETURN(Config c, Config::Parse(toml, "/etc/cb/config.toml", "/var/lib/clawback"));
  return LoadEnvironments(c);
}

std::string Error(const std::string& toml) {
  auto r = Load(toml);
  if (r.ok()) return "(no error)";
  return r.status().message();
}

TEST(Environments, TheIssuesExampleLoads) {
  ASSERT_OK_AND_ASSIGN(auto envs, Load(R"(
[environments.prod]
paths   = ["/srv/openclaw/config", "/srv/app/data/"]
exclude = ["*.sock", "/srv/app/data/cache/**"]
git     = ["/srv/gitops"]
dumps   = [{ name = "db", dump = "pg_dump -Fc app", load = "pg_restore -c -d app" }]
deploy  = "docker compose -f /srv/gitops/compose.yml up -d"
health  = [{ http = "http://127.0.0.1:8080/health", expect = 200, timeout = "30s" },
           { command = "systemctl is-active app", timeout = "10s", interval = "500ms", passes = 3 }]
protect_agents = ["main"]

[environments.dev]
paths = ["/home/op/dev"]
)"));
  ASSERT_EQ(envs.size(), 2u);
  const Environment& dev = envs[0];
  EXPECT_EQ(dev.name, "dev");
  EXPECT_TRUE(dev.all_agents);
  EXPECT_TRUE(dev.Guards("anyone"));
  EXPECT_TRUE(dev.health.empty());
  const Environment& prod = envs[1];
  EXPECT_EQ(prod.paths, (std::vector<std::string>{"/srv/openclaw/config", "/srv/app/data"}));
  EXPECT_EQ(prod.Roots(),
            (std::vector<std::string>{"/srv/openclaw/config", "/srv/app/data", "/srv/gitops"}));
  ASSERT_EQ(prod.dumps.size(), 1u);
  EXPECT_EQ(prod.dumps[0].load, "pg_restore -c -d app");
  ASSERT_EQ(prod.health.size(), 2u);
  EXPECT_EQ(prod.health[0].timeout_ms, 30'000);
  EXPECT_EQ(prod.health[0].interval_ms, 1'000);
  EXPECT_EQ(prod.health[0].passes, 1);
  EXPECT_EQ(prod.health[1].timeout_ms, 10'000);
  EXPECT_EQ(prod.health[1].interval_ms, 500);
  EXPECT_EQ(prod.health[1].passes, 3);
  EXPECT_EQ(prod.health[0].Describe(), "GET http://127.0.0.1:8080/health → 200");
  EXPECT_FALSE(prod.all_agents);
  EXPECT_TRUE(prod.Guards("main"));
  EXPECT_FALSE(prod.Guards("helper"));
  EXPECT_TRUE(prod.Manages("/srv/app/data/x/y"));
  EXPECT_TRUE(prod.Manages("/srv/gitops/compose.yml"));
  EXPECT_FALSE(prod.Manages("/srv/app/database"));
  EXPECT_FALSE(prod.Manages("/srv"));
}

TEST(Environments, NoneConfiguredIsAnEmptyList) {
  ASSERT_OK_AND_ASSIGN(auto envs, Load(""));
  EXPECT_TRUE(envs.empty());
  auto missing = FindEnvironment(envs, "prod");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("defines none"), std::string::npos);
}

TEST(Environments, AnUnknownNameSuggestsTheNearest) {
  ASSERT_OK_AND_ASSIGN(auto envs, Load("[environments.prod]\npaths = [\"/srv/a\"]\n"));
  auto r = FindEnvironment(envs, "prdo");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "no environment \"prdo\" (did you mean prod?); config.toml defines: prod");
}

TEST(Environments, BadTablesAreRefusedNamingFileKeyAndReason) {
  EXPECT_EQ(Error("[environments.prod]\npaths = [\"srv/a\"]\n"),
            "/etc/cb/config.toml: environments.prod.paths: \"srv/a\" is not an absolute path");
  EXPECT_EQ(Error("[environments.prod]\npaths = [\"/srv/a\", \"/srv/a/b\"]\n"),
            "/etc/cb/config.toml: environments.prod.paths: \"/srv/a\" and \"/srv/a/b\" overlap: "
            "list the outer one only");
  EXPECT_EQ(Error("[environments.prod]\npaths = [\"/var/lib\"]\n"),
            "/etc/cb/config.toml: environments.prod.paths: \"/var/lib\" holds clawback's own data "
            "dir /var/lib/clawback (the ledger and the repository are never rolled back)");
  EXPECT_EQ(Error("[environments.prod]\npaths = [\"/var/lib/clawback/repo\"]\n"),
            "/etc/cb/config.toml: environments.prod.paths: \"/var/lib/clawback/repo\" holds "
            "clawback's own data dir /var/lib/clawback (the ledger and the repository are never "
            "rolled back)");
  EXPECT_EQ(Error("[repository]\nurl = \"/backup/repo\"\n[environments.prod]\npaths = [\"/backup\"]\n"),
            "/etc/cb/config.toml: environments.prod.paths: \"/backup\" holds the repository "
            "/backup/repo (the ledger and the repository are never rolled back)");
  EXPECT_EQ(Error("[ledger]\nurl = \"sqlite:/srv/app/ledger.db\"\n[environments.prod]\n"
                  "paths = [\"/srv/app\"]\n"),
            "/etc/cb/config.toml: environments.prod.paths: \"/srv/app\" holds the ledger "
            "/srv/app/ledger.db (the ledger and the repository are never rolled back)");
  EXPECT_EQ(Error("[repository]\nurl = \"s3:https://s3.example.org/b\"\n[environments.prod]\n"
                  "paths = [\"/srv/app\"]\n"),
            "(no error)");
  EXPECT_EQ(Error("[environments.prod]\nexclude = [\"*.sock\"]\n"),
            "/etc/cb/config.toml: environments.prod.paths: an environment manages at least one "
            "path or git repository");
  EXPECT_EQ(Error("[environments.prod]\npaths = [\"/a\"]\nhealth = [{ expect = 200 }]\n"),
            "/etc/cb/config.toml: environments.prod.health[0].http: a health check is either "
            "{ http = \"URL\" } or { command = \"…\" }, one of the two");
  EXPECT_EQ(Error("[environments.prod]\npaths = [\"/a\"]\nhealth = [{ http = \"localhost:80\" }]\n"),
            "/etc/cb/config.toml: environments.prod.health[0].http: \"localhost:80\" is not an "
            "http:// or https:// URL");
  EXPECT_EQ(Error("[environments.prod]\npaths = [\"/a\"]\n"
                  "health = [{ command = \"true\", timeout = \"30\" }]\n"),
            "/etc/cb/config.toml: environments.prod.health[0].timeout: \"30\" is not a duration "
            "(e.g. 500ms, 10s, 2m)");
  EXPECT_EQ(Error("[environments.prod]\npaths = [\"/a\"]\n"
                  "dumps = [{ name = \"db\", dump = \"x\", load = \"y\" },"
                  " { name = \"db\", dump = \"x\", load = \"y\" }]\n"),
            "/etc/cb/config.toml: environments.prod.dumps[1].name: \"db\" is used by another dump");
  EXPECT_EQ(Error("[environments.prod]\npaths = [\"/a\"]\ndumps = [{ name = \"db\", dump = \"x\" }]\n"),
            "/etc/cb/config.toml: environments.prod.dumps[0].load: the command that reads the "
            "state from stdin is missing");
  EXPECT_EQ(Error("[environments.prod]\npaths = [\"/a\"]\nhealth = { http = \"http://x\" }\n"),
            "/etc/cb/config.toml: environments.prod.health: expected an array of tables "
            "([{ … }, …]), got a table");
}

TEST(Environments, TyposInsideAnEnvironmentSuggestTheKey) {
  EXPECT_EQ(Error("[environments.prod]\npath = [\"/a\"]\n"),
            "/etc/cb/config.toml:2: environments.prod.path: unknown key (did you mean paths?)");
  EXPECT_EQ(Error("[environments.prod]\npaths = [\"/a\"]\nhealth = [{ htp = \"http://x\" }]\n"),
            "/etc/cb/config.toml:3: environments.prod.health.htp: unknown key (did you mean http?)");
}

TEST(Environments, PathsAreNormalisedLexically) {
  EXPECT_EQ(NormalisePath("/a/b/../c/"), "/a/c");
  EXPECT_EQ(NormalisePath("//a/./b"), "/a/b");
  EXPECT_EQ(NormalisePath("/"), "/");
  EXPECT_EQ(NormalisePath("/.."), "/");
  EXPECT_EQ(NormalisePath("a/b"), "");
  EXPECT_EQ(NormalisePath(""), "");
}

TEST(EnvCheck, CommandProgramSkipsAssignments) {
  EXPECT_EQ(CommandProgram("pg_dump -Fc app"), "pg_dump");
  EXPECT_EQ(CommandProgram("  PGPASSFILE=/x/y  pg_restore -c"), "pg_restore");
  EXPECT_EQ(CommandProgram("/usr/bin/env X=1 foo"), "/usr/bin/env");
  EXPECT_EQ(CommandProgram("'my tool' x"), "'my");
  EXPECT_EQ(CommandProgram(""), "");
}

}  // namespace
}  // namespace clawback::timemachine
