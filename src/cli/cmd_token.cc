// `clawback token create --role R [--name N]`: a new API token, printed once.
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/spine_client.h"
#include "common/clock.h"
#include "ingest/auth.h"

namespace clawback::cli {
namespace {

struct TokenOptions {
  std::string role;
  std::string name;
};

Status RunCreate(Cli& cli, const TokenOptions& opt) {
  auto role = ledger::ParseRole(opt.role);
  if (!role) {
    return InvalidArgument("--role \"" + opt.role +
                           "\": expected viewer (reads), ingest (event writes), operator or admin");
  }
  ASSIGN_OR_RETURN(auto ledger, OpenDataDirLedger(cli));
  std::string token = ingest::GenerateToken();
  std::string name = opt.name.empty() ? std::string(ledger::RoleName(*role)) : opt.name;
  ledger::WriteBatch b;
  ledger::Token record =
      ingest::MakeTokenRecord(token, name, *role, SystemClock().NowUnixMillis());
  b.Add(record);
  b.Add(NewEvent(std::nullopt, "token.create",
                 {{"token_id", record.id.ToString()},
                  {"name", name},
                  {"role", std::string(ledger::RoleName(*role))}},
                 "cli"));
  RETURN_IF_ERROR(ledger->Apply(b));
  if (cli.global.json) {
    std::printf("%s\n", nlohmann::json({{"token", token},
                                        {"id", record.id.ToString()},
                                        {"name", name},
                                        {"role", std::string(ledger::RoleName(*role))}})
                            .dump()
                            .c_str());
  } else {
    std::printf("%s\n", token.c_str());
  }
  return Status::Ok();
}

void Register(CLI::App& app, Cli& cli) {
  auto* group = app.add_subcommand("token", "API tokens for `clawback serve`");
  group->require_subcommand(1);
  auto opt = std::make_shared<TokenOptions>();
  auto* create = group->add_subcommand("create", "Create a token and print it (only this once)");
  create->add_option("--role", opt->role, "viewer, ingest, operator or admin")->required();
  create->add_option("--name", opt->name, "A name to recognise it by (default: the role)");
  create->footer(
      "Only the token's SHA-256 is stored: copy it now, it cannot be shown again.\n"
      "Roles: viewer (reads) < ingest (event writes) < operator < admin.\n\n"
      "Examples:\n"
      "  export CLAWBACK_TOKEN=$(clawback token create --role admin --name me)\n"
      "  clawback token create --role ingest --name openclaw-gateway");
  create->callback([&cli, opt] { cli.status = RunCreate(cli, *opt); });
}

CLAWBACK_REGISTER_COMMAND(60, Register);

}  // namespace
}  // namespace clawback::cli
