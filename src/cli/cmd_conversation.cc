// `clawback conversation start|end|list|show`: open, close and look up conversations.
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/spine_client.h"
#include "cli/time_arg.h"
#include "cli/trace_render.h"

namespace clawback::cli {
namespace {

struct StartOptions {
  std::string title;
  std::string source = "cli";
  std::string agent;
  std::vector<std::string> external_ids;
};

struct EndOptions {
  std::string id;
  std::string status = "ended";
};

struct ListOptions {
  std::string since;
  std::string until;
  std::string status;
  std::string query;
  int limit = 100;
};

Status RunStart(Cli& cli, const StartOptions& opt) {
  StartConversationRequest req;
  req.title = opt.title;
  req.source = opt.source;
  req.agent = opt.agent;
  for (const auto& text : opt.external_ids) {
    ASSIGN_OR_RETURN(auto ext, ParseExternalId(text));
    req.external_ids.push_back(std::move(ext));
  }
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  ASSIGN_OR_RETURN(Uuid id, client->StartConversation(req));
  if (cli.global.json) {
    std::printf("%s\n", nlohmann::json({{"conversation_id", id.ToString()}}).dump().c_str());
  } else {
    std::printf("%s\n", id.ToString().c_str());
  }
  return Status::Ok();
}

Status RunEnd(Cli& cli, const EndOptions& opt) {
  ASSIGN_OR_RETURN(Uuid id, ParseId(opt.id));
  if (opt.status.empty()) return InvalidArgument("--status must not be empty");
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  RETURN_IF_ERROR(client->EndConversation(id, opt.status));
  if (cli.global.json) {
    std::printf("%s\n",
                nlohmann::json({{"conversation_id", id.ToString()}, {"status", opt.status}})
                    .dump()
                    .c_str());
  }
  return Status::Ok();
}

Status RunList(Cli& cli, const ListOptions& opt) {
  ledger::ConversationFilter f;
  if (!opt.since.empty()) {
    ASSIGN_OR_RETURN(int64_t t, ParseTimeArg(opt.since, "--since"));
    f.since_ms = t;
  }
  if (!opt.until.empty()) {
    ASSIGN_OR_RETURN(int64_t t, ParseTimeArg(opt.until, "--until"));
    f.until_ms = t;
  }
  if (opt.limit <= 0) return InvalidArgument("--limit must be positive");
  f.status = opt.status;
  f.query = opt.query;
  f.limit = opt.limit;
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  ASSIGN_OR_RETURN(auto list, client->ListConversations(f));
  if (cli.global.json) {
    std::printf("%s\n", list.dump().c_str());
  } else {
    std::fputs(RenderConversationList(list).c_str(), stdout);
  }
  return Status::Ok();
}

Status RunShow(Cli& cli, const std::string& id_text) {
  ASSIGN_OR_RETURN(Uuid id, ParseId(id_text));
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  ASSIGN_OR_RETURN(auto conv, client->GetConversation(id));
  if (cli.global.json) {
    std::printf("%s\n", conv.dump().c_str());
  } else {
    std::fputs(RenderConversation(conv).c_str(), stdout);
  }
  return Status::Ok();
}

void Register(CLI::App& app, Cli& cli) {
  auto* group = app.add_subcommand("conversation", "Start, end, list and show conversations");
  group->alias("conv");
  group->require_subcommand(1);

  auto start = std::make_shared<StartOptions>();
  auto* s = group->add_subcommand("start", "Open a conversation and print only its new id");
  s->add_option("--title", start->title, "What the conversation is about");
  s->add_option("--source", start->source, "Who opened it: cli, openclaw, api, …");
  s->add_option("--agent", start->agent, "The agent's name, if any");
  s->add_option("--external-id", start->external_ids,
                "KIND=VALUE to look the conversation up by later (repeatable)");
  s->footer(
      "Examples:\n"
      "  id=$(clawback conversation start --title \"upgrade nginx\")\n"
      "  clawback conversation start --source openclaw --external-id "
      "openclaw.session_key=agent:main:main");
  s->callback([&cli, start] { cli.status = RunStart(cli, *start); });

  auto end = std::make_shared<EndOptions>();
  auto* e = group->add_subcommand("end", "Close a conversation");
  e->add_option("id", end->id, "The conversation id")->required();
  e->add_option("--status", end->status, "Final status: ended, failed, reset, …");
  e->footer("Example:\n  clawback conversation end \"$id\" --status failed");
  e->callback([&cli, end] { cli.status = RunEnd(cli, *end); });

  auto list = std::make_shared<ListOptions>();
  auto* l = group->add_subcommand("list", "List conversations, newest first");
  l->add_option("--since", list->since,
                "Started at or after: RFC 3339 time, a date, or an age such as 30m, 2h, 7d");
  l->add_option("--until", list->until, "Started before (same forms as --since)");
  l->add_option("--status", list->status, "Only this status: active, ended, failed, …");
  l->add_option("-q,--query", list->query, "Substring of the title, agent or an external id");
  l->add_option("--limit", list->limit, "At most this many");
  l->footer(
      "Examples:\n"
      "  clawback conversation list --since 24h\n"
      "  clawback conversation list --status active --json");
  l->callback([&cli, list] { cli.status = RunList(cli, *list); });

  auto show_id = std::make_shared<std::string>();
  auto* sh = group->add_subcommand("show", "Show one conversation's fields");
  sh->add_option("id", *show_id, "The conversation id")->required();
  sh->footer("Example:\n  clawback conversation show \"$id\" --json");
  sh->callback([&cli, show_id] { cli.status = RunShow(cli, *show_id); });
}

CLAWBACK_REGISTER_COMMAND(20, Register);

}  // namespace
}  // namespace clawback::cli
