// `clawback learn ingest --deployment ID (FILE... | --loki)` and `clawback learn reindex`:
// feed a deployment's logs to the learning system (learn/engine.h). Joins the `learn`
// group that cmd_learn.cc creates.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/learn_common.h"
#include "cli/spine_client.h"
#include "service/api_routes.h"

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
  // Read every file first: a missing one fails before anything is ingested.
  std::vector<std::vector<std::string>> contents;
  for (const auto& f : a.files) {
    ASSIGN_OR_RETURN(auto got, ReadLines(f));
    contents.push_back(std::move(got));
  }
  ASSIGN_OR_RETURN(auto client, OpenSpineClient(cli));
  const std::string what = "learn ingest --deployment " + id.ToString();
  Json reports = Json::array();
  Json last;
  int64_t lines = 0;
  auto post = [&](Json body, const std::string& source) -> Status {
    body["deployment_id"] = id.ToString();
    ASSIGN_OR_RETURN(last, client->Call("POST", "/v1/learn/logs", {}, body, what));
    lines += last.value("lines", int64_t{0});
    if (!source.empty()) last["source"] = source;
    reports.push_back(last);
    return Status::Ok();
  };
  if (a.loki) RETURN_IF_ERROR(post({{"loki", true}}, ""));
  for (size_t i = 0; i < a.files.size(); ++i) {
    // In requests of at most kLogChunkBytes (a server takes 1 MiB bodies by default); the
    // counts add up the same as one request would.
    const std::vector<std::string>& all = contents[i];
    size_t begin = 0;
    do {
      size_t end = begin, bytes = 0;
      while (end < all.size() && (end == begin || bytes + all[end].size() + 8 <= service::kLogChunkBytes))
        bytes += all[end++].size() + 8;
      Json chunk = Json::array();
      for (size_t k = begin; k < end; ++k) chunk.push_back(all[k]);
      RETURN_IF_ERROR(post({{"lines", chunk}, {"source", "file:" + a.files[i]}}, a.files[i]));
      begin = end;
    } while (begin < all.size());
  }
  if (cli.global.json) {
    std::printf("%s\n", Json({{"deployment_id", id.ToString()}, {"lines", lines},
                              {"total_lines", last.value("total_lines", int64_t{0})}, {"sources", reports},
                              {"index", last.value("index", "")}, {"indexed", last.value("indexed", int64_t{0})}})
                            .dump()
                            .c_str());
  } else {
    std::printf("deployment %s: %lld lines ingested (%lld in all); %lld situations in the %s index\n",
                id.ToString().c_str(), static_cast<long long>(lines),
                static_cast<long long>(last.value("total_lines", int64_t{0})),
                static_cast<long long>(last.value("indexed", int64_t{0})), last.value("index", "").c_str());
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
      "Ingesting again adds to the deployment's counts. Outcomes come from the ledger.\n"
      "With --server URL the server's learning system takes the lines (POST /v1/learn/logs,\n"
      "an ingest token), in requests of at most 256 KiB; with --loki the server queries Loki.\n\n"
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
