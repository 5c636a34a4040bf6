// `clawback record KIND --conversation ID [--attr k=v]...`: append one event.
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/spine_client.h"

namespace clawback::cli {
namespace {

struct RecordOptions {
  std::string kind;
  std::string conversation;
  std::vector<std::string> attrs;
};

// "k=v" sets a string; "k:=JSON" sets any JSON value (number, bool, object, …).
Status ParseAttr(const std::string& text, Json* attrs) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return InvalidArgument("--attr \"" + text + "\": expected KEY=VALUE or KEY:=JSON");
  }
  if (text[eq - 1] == ':') {
    std::string key = text.substr(0, eq - 1);
    if (key.empty()) return InvalidArgument("--attr \"" + text + "\": the key is empty");
    Json v = Json::parse(text.substr(eq + 1), nullptr, false);
    if (v.is_discarded()) {
      return InvalidArgument("--attr \"" + text + "\": the value after := is not valid JSON");
    }
    (*attrs)[key] = std::move(v);
  } else {
    (*attrs)[text.substr(0, eq)] = text.substr(eq + 1);
  }
  return Status::Ok();
}

Status RunRecord(Cli& cli, const RecordOptions& opt) {
  std::string conv_text = opt.conversation;
  if (conv_text.empty()) {
    if (const char* env = std::getenv("CLAWBACK_CONVERSATION_ID"); env && *env) conv_text = env;
  }
  if (conv_text.empty()) {
    return InvalidArgument("record needs --conversation ID (or $CLAWBACK_CONVERSATION_ID)");
  }
  ASSIGN_OR_RETURN(Uuid conv, ParseId(conv_text));
  if (opt.kind.empty()) return InvalidArgument("KIND must not be empty");
  Json attrs = Json::object();
  for (const auto& a : opt.attrs) RETURN_IF_ERROR(ParseAttr(a, &attrs));
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  ASSIGN_OR_RETURN(Uuid event_id, client->RecordEvent(conv, opt.kind, attrs));
  if (cli.global.json) {
    std::printf("%s\n", Json({{"event_id", event_id.ToString()},
                              {"conversation_id", conv.ToString()},
                              {"kind", opt.kind}})
                            .dump()
                            .c_str());
  } else {
    std::printf("%s\n", event_id.ToString().c_str());
  }
  return Status::Ok();
}

void Register(CLI::App& app, Cli& cli) {
  auto opt = std::make_shared<RecordOptions>();
  auto* cmd = app.add_subcommand("record", "Append an event to a conversation; prints its id");
  cmd->add_option("kind", opt->kind, "Event kind, e.g. note, file_change, check")->required();
  cmd->add_option("-c,--conversation", opt->conversation,
                  "Conversation id (default: $CLAWBACK_CONVERSATION_ID)");
  cmd->add_option("-a,--attr", opt->attrs,
                  "Attribute KEY=VALUE (a string) or KEY:=JSON (any JSON value); repeatable");
  cmd->footer(
      "The kind file_change (attributes path, change) also adds a row to the trace's file\n"
      "changes.\n\n"
      "Examples:\n"
      "  clawback record note --conversation \"$id\" --attr text=\"rotated the TLS cert\"\n"
      "  clawback record file_change -c \"$id\" -a path=/etc/nginx/nginx.conf -a change=modified\n"
      "  clawback record check -c \"$id\" -a name=smoke -a passed:=true -a latency_ms:=41");
  cmd->callback([&cli, opt] { cli.status = RunRecord(cli, *opt); });
}

CLAWBACK_REGISTER_COMMAND(30, Register);

}  // namespace
}  // namespace clawback::cli
