// `clawback trace ID [--json]`: the whole chain of one conversation.
#include "cli/cli.h"
#include "cli/spine_client.h"
#include "cli/trace_render.h"

namespace clawback::cli {
namespace {

Status RunTrace(Cli& cli, const std::string& id_text) {
  ASSIGN_OR_RETURN(Uuid id, ParseId(id_text));
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  ASSIGN_OR_RETURN(Json trace, client->GetTrace(id));
  if (cli.global.json) {
    std::printf("%s\n", trace.dump().c_str());
  } else {
    std::fputs(RenderTrace(trace).c_str(), stdout);
  }
  return Status::Ok();
}

void Register(CLI::App& app, Cli& cli) {
  auto id = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "trace", "Show what a conversation did: tool calls, commands, commits, deployments, …");
  cmd->add_option("id", *id, "The conversation id")->required();
  cmd->footer(
      "The text form is a tree in time order (commands and file changes nest under the tool\n"
      "call that ran them), each line with its clock time, offset from the start and duration.\n"
      "--json prints the same document as GET /v1/conversations/{id}/trace.\n\n"
      "Examples:\n"
      "  clawback trace 0190f3a2-7c1e-7d41-9a2b-1c2d3e4f5a6b\n"
      "  clawback trace \"$id\" --json | jq '.commits[].trailer'");
  cmd->callback([&cli, id] { cli.status = RunTrace(cli, *id); });
}

CLAWBACK_REGISTER_COMMAND(50, Register);

}  // namespace
}  // namespace clawback::cli
