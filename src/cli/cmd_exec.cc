// `clawback exec [--conversation ID] -- CMD...`: run a command inside a conversation and
// record it (argv, cwd, exit code, duration). The child sees the conversation in its
// environment — CLAWBACK_CONVERSATION_ID, TRACEPARENT and OTEL_RESOURCE_ATTRIBUTES — so
// git hooks, OpenTelemetry SDKs and nested `clawback` calls attach to it.
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "cli/child_process.h"
#include "cli/cli.h"
#include "cli/exec_env.h"
#include "cli/spine_client.h"
#include "common/clock.h"
#include "common/trace_context.h"

namespace clawback::cli {
namespace {

constexpr char kOtelKey[] = "clawback.conversation.id";

struct ExecOptions {
  std::string conversation;
  std::string title;
  std::string tool_call_id;
  std::vector<std::string> argv;
};

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

std::string OtelResourceAttributesWith(const std::string& existing, const std::string& id) {
  std::string out;
  size_t pos = 0;
  while (pos <= existing.size() && !existing.empty()) {
    size_t comma = existing.find(',', pos);
    std::string item = existing.substr(pos, comma == std::string::npos ? std::string::npos
                                                                         : comma - pos);
    std::string key = item.substr(0, item.find('='));
    while (!key.empty() && key.front() == ' ') key.erase(0, 1);
    while (!key.empty() && key.back() == ' ') key.pop_back();
    if (!item.empty() && key != kOtelKey) out += (out.empty() ? "" : ",") + item;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out + (out.empty() ? "" : ",") + kOtelKey + "=" + id;
}

namespace {

std::string JoinArgv(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s.size() > 200 ? s.substr(0, 200) : s;
}

Status RunExec(Cli& cli, const ExecOptions& opt) {
  if (opt.argv.empty()) {
    return InvalidArgument("exec needs a command: clawback exec [--conversation ID] -- CMD [ARG...]");
  }
  std::string conv_text = opt.conversation.empty() ? Getenv("CLAWBACK_CONVERSATION_ID")
                                                   : opt.conversation;
  std::optional<Uuid> conv;
  bool started_here = false;
  {
    ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
    if (!conv_text.empty()) {
      ASSIGN_OR_RETURN(Uuid id, ParseId(conv_text));
      // Fail before running anything when the conversation does not exist.
      RETURN_IF_ERROR(client->GetConversation(id).status());
      conv = id;
    } else {
      StartConversationRequest req;
      req.source = "exec";
      req.title = opt.title.empty() ? JoinArgv(opt.argv) : opt.title;
      ASSIGN_OR_RETURN(Uuid id, client->StartConversation(req));
      conv = id;
      started_here = true;
      std::fprintf(stderr, "clawback: conversation %s\n", id.ToString().c_str());
    }
  }  // the ledger is closed while the command runs: its hooks write to it too

  std::string id = conv->ToString();
  std::vector<std::pair<std::string, std::string>> env = {
      {"CLAWBACK_CONVERSATION_ID", id},
      {"TRACEPARENT", TraceContext::ForConversation(*conv).Format()},
      {"OTEL_RESOURCE_ATTRIBUTES",
       OtelResourceAttributesWith(Getenv("OTEL_RESOURCE_ATTRIBUTES"), id)},
  };
  // Nested clawback calls (git hooks) record where this one does.
  if (!cli.global.data_dir.empty()) env.emplace_back("CLAWBACK_HOME", cli.DataDir());
  if (!cli.global.server.empty()) env.emplace_back("CLAWBACK_SERVER", cli.global.server);
  if (!opt.tool_call_id.empty()) env.emplace_back("CLAWBACK_TOOL_CALL_ID", opt.tool_call_id);

  char cwd[PATH_MAX];
  ledger::Command command;
  command.id = NewUuidV7();
  command.conversation_id = conv;
  command.argv = opt.argv;
  command.cwd = ::getcwd(cwd, sizeof cwd) ? cwd : "";
  command.tool_call_id = opt.tool_call_id;
  command.started_at_ms = SystemClock().NowUnixMillis();
  int64_t t0 = SystemClock().MonotonicNanos();
  ASSIGN_OR_RETURN(ForwardingResult run, RunForwarding(opt.argv, EnvironWith(env)));
  command.duration_ms = (SystemClock().MonotonicNanos() - t0) / 1'000'000;
  command.exit_code = run.exit_code;
  if (!run.spawn_error.empty()) std::fprintf(stderr, "clawback: exec: %s\n", run.spawn_error.c_str());
  if (cli.global.verbose > 0) {
    std::fprintf(stderr, "clawback: %s exited %d after %lldms\n", opt.argv[0].c_str(),
                 run.exit_code, static_cast<long long>(*command.duration_ms));
  }

  // The command ran: its exit code is ours even when recording fails.
  cli.exit_code = run.exit_code;
  auto client = OpenSpineClient(cli);
  Status recorded = client.ok() ? (*client)->RecordCommand(command) : client.status();
  if (recorded.ok() && started_here) {
    recorded = (*client)->EndConversation(*conv, run.exit_code == 0 ? "ended" : "failed");
  }
  if (!recorded.ok()) {
    std::fprintf(stderr, "clawback: warning: the command ran (exit %d) but was not recorded: %s\n",
                 run.exit_code, recorded.ToString().c_str());
  }
  return Status::Ok();
}

void Register(CLI::App& app, Cli& cli) {
  auto opt = std::make_shared<ExecOptions>();
  auto* cmd = app.add_subcommand("exec", "Run a command inside a conversation and record it");
  cmd->add_option("-c,--conversation", opt->conversation,
                  "Conversation id (default: $CLAWBACK_CONVERSATION_ID, else a new one)");
  cmd->add_option("--title", opt->title, "Title of the new conversation (default: the command)");
  cmd->add_option("--tool-call-id", opt->tool_call_id,
                  "The agent's tool call this command belongs to");
  cmd->add_option("command", opt->argv, "The command and its arguments, after --")->required();
  cmd->footer(
      "Runs CMD with CLAWBACK_CONVERSATION_ID, TRACEPARENT (the conversation's trace) and\n"
      "OTEL_RESOURCE_ATTRIBUTES (+clawback.conversation.id=ID) set, forwards signals, records\n"
      "argv, cwd, exit code and duration, and exits with CMD's exit code (128+N when signal N\n"
      "killed it, 127 when CMD was not found). Without a conversation it starts one (printed\n"
      "on stderr) and ends it when CMD finishes: ended on exit 0, failed otherwise.\n\n"
      "Examples:\n"
      "  clawback exec -- git commit -am \"bump nginx to 1.27\"\n"
      "  clawback exec --conversation \"$id\" -- kubectl apply -f deploy/\n"
      "  clawback --server http://127.0.0.1:18800 exec -- make deploy");
  cmd->callback([&cli, opt] { cli.status = RunExec(cli, *opt); });
}

CLAWBACK_REGISTER_COMMAND(40, Register);

}  // namespace
}  // namespace clawback::cli
