// `clawback token create --role R [--name N]`: a new API token, printed once.
// `clawback token list`: every token's id, name, role, creation, last use and state (never
// the token). `clawback token revoke ID`: a running server refuses it within 5 s (its
// token cache lives that long).
#include <nlohmann/json.hpp>

#include <algorithm>

#include "cli/cli.h"
#include "cli/spine_client.h"
#include "common/clock.h"

namespace clawback::cli {
namespace {

struct TokenOptions {
  std::string role;
  std::string name;
};

Status RunCreate(Cli& cli, const TokenOptions& opt) {
  if (!ledger::ParseRole(opt.role)) {
    return InvalidArgument("--role \"" + opt.role +
                           "\": expected viewer (reads), ingest (event writes), operator or admin");
  }
  // With --server: through the server (an admin token); the first token of a data dir is
  // made directly, before any server can check one.
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  nlohmann::json body = {{"role", opt.role}, {"actor", "cli"}};
  if (!opt.name.empty()) body["name"] = opt.name;
  ASSIGN_OR_RETURN(nlohmann::json made, client->Write("POST", "/v1/tokens", body, "token create"));
  if (cli.global.json) {
    std::printf("%s\n", made.dump().c_str());
  } else {
    std::printf("%s\n", made.value("token", "").c_str());
  }
  return Status::Ok();
}

std::string Minute(const nlohmann::json& t) {
  if (!t.is_string()) return "never";
  std::string s = t.get<std::string>();  // 2026-12-06T21:40:00.123Z
  if (s.size() < 16) return s;
  return s.substr(0, 10) + " " + s.substr(11, 5) + "Z";
}

struct TokenRow {
  std::string id, name, role;
  bool revoked = false;
  nlohmann::json doc;
};

Result<std::vector<TokenRow>> ListTokens(SpineClient& client) {
  ASSIGN_OR_RETURN(nlohmann::json answer, client.Call("GET", "/v1/tokens", {}, nullptr, "token list"));
  std::vector<TokenRow> rows;
  for (const auto& t : answer.value("tokens", nlohmann::json::array())) {
    TokenRow r;
    r.id = t.value("id", "");
    r.name = t.value("name", "");
    r.role = t.value("role", "");
    r.revoked = t.value("revoked", false);
    r.doc = t;
    rows.push_back(std::move(r));
  }
  return rows;
}

Status RunList(Cli& cli) {
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  ASSIGN_OR_RETURN(std::vector<TokenRow> tokens, ListTokens(*client));
  if (cli.global.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : tokens) out.push_back(t.doc);
    std::printf("%s\n", out.dump().c_str());
    return Status::Ok();
  }
  if (tokens.empty()) {
    std::printf("No tokens. Create one with: clawback token create --role admin --name me\n");
    return Status::Ok();
  }
  size_t name_width = 4;
  for (const auto& t : tokens) name_width = std::max(name_width, t.name.size());
  std::printf("%-36s  %-*s  %-8s  %-17s  %-17s  %s\n", "ID", static_cast<int>(name_width), "NAME",
              "ROLE", "CREATED", "LAST USED", "STATE");
  for (const auto& t : tokens) {
    std::printf("%-36s  %-*s  %-8s  %-17s  %-17s  %s\n", t.id.c_str(), static_cast<int>(name_width),
                t.name.c_str(), t.role.c_str(), Minute(t.doc["created"]).c_str(),
                Minute(t.doc["last_used"]).c_str(), t.revoked ? "revoked" : "active");
  }
  return Status::Ok();
}

// The one token `ref` names: its full id, a unique prefix of the id (8+ characters), or
// its name when exactly one active token has it.
Result<TokenRow> ResolveToken(const std::vector<TokenRow>& tokens, const std::string& ref) {
  std::vector<const TokenRow*> hits;
  for (const auto& t : tokens)
    if (t.id == ref) return t;
  if (ref.size() >= 8)
    for (const auto& t : tokens)
      if (t.id.compare(0, ref.size(), ref) == 0) hits.push_back(&t);
  if (hits.empty())
    for (const auto& t : tokens)
      if (t.name == ref && !t.revoked) hits.push_back(&t);
  if (hits.size() == 1) return *hits[0];
  if (hits.empty())
    return NotFound("no token has id or name \"" + ref + "\" (`clawback token list` shows them)");
  std::string ids;
  for (const auto* t : hits) ids += " " + t->id;
  return InvalidArgument("\"" + ref + "\" names " + std::to_string(hits.size()) +
                         " tokens; give the full id:" + ids);
}

Status RunRevoke(Cli& cli, const std::string& ref) {
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  ASSIGN_OR_RETURN(std::vector<TokenRow> tokens, ListTokens(*client));
  ASSIGN_OR_RETURN(TokenRow t, ResolveToken(tokens, ref));
  ASSIGN_OR_RETURN(nlohmann::json out, client->Write("POST", "/v1/tokens/" + t.id + "/revoke",
                                                     {{"actor", "cli"}}, "token revoke " + t.id));
  if (cli.global.json) {
    std::printf("%s\n", out.dump().c_str());
  } else if (out.value("already_revoked", false)) {
    std::printf("Token %s (%s) was already revoked.\n", t.id.c_str(), t.name.c_str());
  } else {
    std::printf("Revoked token %s (%s, %s). A running server refuses it within 5 s.\n", t.id.c_str(),
                t.name.c_str(), t.role.c_str());
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
      "  clawback token create --role ingest --name openclaw-gateway\n"
      "  CLAWBACK_TOKEN=$ADMIN clawback --server http://127.0.0.1:18800 token create --role viewer");
  create->callback([&cli, opt] { cli.status = RunCreate(cli, *opt); });

  auto* list = group->add_subcommand("list", "List the tokens: id, name, role, created, last used, state");
  list->footer(
      "Never shows a token itself (only its hash is stored). LAST USED is when a request last\n"
      "authenticated with it, written at most once a minute. --json prints an array.\n\n"
      "Examples:\n"
      "  clawback token list\n"
      "  clawback --json token list");
  list->callback([&cli] { cli.status = RunList(cli); });

  auto ref = std::make_shared<std::string>();
  auto* revoke = group->add_subcommand("revoke", "Revoke a token: a running server refuses it within 5 s");
  revoke->add_option("token", *ref, "The token's id (or a unique prefix of it, or its name)")->required();
  revoke->footer(
      "The revocation is recorded in the ledger (event token.revoke) and cannot be undone:\n"
      "create a new token instead. Revoking a revoked token changes nothing.\n\n"
      "Examples:\n"
      "  clawback token revoke 0193a1b2-...\n"
      "  clawback token revoke openclaw-gateway");
  revoke->callback([&cli, ref] { cli.status = RunRevoke(cli, *ref); });
}

CLAWBACK_REGISTER_COMMAND(60, Register);

}  // namespace
}  // namespace clawback::cli
