// `clawback learn ingest --deployment ID (FILE... | --loki)` and `clawback learn reindex`:
// feed a deployment's logs to the learning system (learn/engine.h). Joins the `learn`
// group that cmd_learn.cc creates.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/learn_common.h"
#include "cli/spine_client.h"

namespace clawback::cli {
namespace {

using Json = nlohmann::json;

struct IngestArgs {
  std::string deployment;
  std::vector<std::string> files;
  bool loki = false;
};

Status RunIngest(const IngestArgs& a, Cli& cli) {
  if (a.files.empty() && !a.loki)
    return InvalidArgument(
        "give log FILEs, or --loki to query Loki (clawback does not capture deploy command "
        "output yet)");
  if (!a.files.empty() && a.loki) return InvalidArgument("give FILEs or --loki, not both");
  ASSIGN_OR_RETURN(Uuid id, ParseId(a.deployment, "deployment id"));
  ASSIGN_OR_RETURN(LearnSession s, OpenLearnSession(cli));
  ASSIGN_OR_RETURN(ledger::Deployment d, s.ledger->GetDeployment(id));
  Json reports = Json::array();
  learn::IngestReport last;
  int64_t lines = 0;
  if (a.loki) {
    auto http = learn::NewCurlHttpClient(std::chrono::seconds(30));
    ASSIGN_OR_RETURN(auto got, s.engine->FetchLoki(d, http.get()));
    ASSIGN_OR_RETURN(last, s.engine->Ingest(id, got, "loki"));
    reports.push_back(last.ToJson());
    lines += last.lines;
  }
  for (const auto& f : a.files) {
    ASSIGN_OR_RETURN(auto got, ReadLines(f));
    ASSIGN_OR_RETURN(last, s.engine->Ingest(id, got, "file:" + f));
    Json r = last.ToJson();
    r["source"] = f;
    reports.push_back(r);
    lines += last.lines;
  }
  ASSIGN_OR_RETURN(size_t indexed, s.engine->IndexSize());
  if (cli.global.json) {
    std::printf("%s\n", Json({{"deployment_id", id.ToString()}, {"lines", lines},
                              {"total_lines", last.total_lines}, {"sources", reports},
                              {"index", s.engine->index().kind()}, {"indexed", indexed}})
                            .dump()
                            .c_str());
  } else {
    std::printf("deployment %s: %lld lines ingested (%lld in all); %zu situations in the %s index\n",
                id.ToString().c_str(), static_cast<long long>(lines),
                static_cast<long long>(last.total_lines), indexed,
                std::string(s.engine->index().kind()).c_str());
  }
  return Status::Ok();
}

Status RunReindex(Cli& cli) {
  ASSIGN_OR_RETURN(LearnSession s, OpenLearnSession(cli));
  RETURN_IF_ERROR(s.engine->Reindex());
  ASSIGN_OR_RETURN(size_t indexed, s.engine->IndexSize());
  if (cli.global.json)
    std::printf("%s\n", Json({{"indexed", indexed}, {"index", s.engine->index().kind()}}).dump().c_str());
  else
    std::printf("%zu situations re-vectorised into the %s index\n", indexed,
                std::string(s.engine->index().kind()).c_str());
  return Status::Ok();
}

void Register(CLI::App& app, Cli& cli) {
  CLI::App* learn = nullptr;
  for (CLI::App* sub : app.get_subcommands([](CLI::App* s) { return s->get_name() == "learn"; }))
    learn = sub;
  if (!learn) {
    learn = app.add_subcommand("learn", "Learn from logs");
    learn->require_subcommand(1);
  }
  auto a = std::make_shared<IngestArgs>();
  auto* ingest = learn->add_subcommand(
      "ingest", "Feed a deployment's logs to the learning system (templates, fingerprint, index)");
  ingest->add_option("--deployment", a->deployment, "Deployment id")->required();
  ingest->add_option("FILE", a->files, "Log files ('-' reads stdin)");
  ingest->add_flag("--loki", a->loki,
                   "Query Loki's query_range API ([learn.loki] url and query in config.toml) "
                   "from 5 min before the deployment to its end");
  ingest->footer(
      "Ingesting again adds to the deployment's counts. Outcomes come from the ledger.\n\n"
      "Examples:\n"
      "  clawback learn ingest --deployment \"$id\" /var/log/app/app.log\n"
      "  journalctl -u app --since '10 min ago' | clawback learn ingest --deployment \"$id\" -\n"
      "  clawback learn ingest --deployment \"$id\" --loki");
  ingest->callback([a, &cli] { cli.status = RunIngest(*a, cli); });

  auto* reindex = learn->add_subcommand(
      "reindex", "Re-vectorise every situation with current template frequencies");
  reindex->footer("Example:\n  clawback learn reindex");
  reindex->callback([&cli] { cli.status = RunReindex(cli); });
}

// After cmd_learn.cc (600), which creates the `learn` group.
CLAWBACK_REGISTER_COMMAND(601, Register);

}  // namespace
}  // namespace clawback::cli
