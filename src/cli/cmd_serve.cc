// `clawback serve`: the daemon — the HTTP ingest API over the data dir's ledger.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/cli.h"
#include "cli/learn_common.h"
#include "cli/snapshot_common.h"
#include "cli/spine_client.h"
#include "ingest/server.h"
#include "service/api_routes.h"
#include "ledger/ledger.h"
#include "telemetry/pipeline.h"

namespace clawback::cli {
namespace {

struct ServeOptions {
  std::string listen;
  int threads = 0;
};

Result<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus("open " + path, errno);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  if (s.empty()) return InvalidArgument(path + ": the HMAC secret file is empty");
  return s;
}

Status Serve(Cli& cli, const ServeOptions& opts) {
  ASSIGN_OR_RETURN(Config config, cli.LoadConfig());
  ingest::ServerOptions so;
  so.listen = opts.listen.empty() ? config.server.listen : opts.listen;
  so.max_body_bytes = static_cast<size_t>(config.server.max_body_bytes);
  so.metrics_require_token = config.server.metrics_require_token;
  so.threads = opts.threads > 0 ? opts.threads : static_cast<int>(config.server.threads);
  ConfigSection server = config.Section("server");
  ASSIGN_OR_RETURN(std::string secret_file, server.GetString("hmac_secret_file", ""));
  if (!secret_file.empty()) {
    if (secret_file[0] != '/') secret_file = config.data_dir() + "/" + secret_file;
    ASSIGN_OR_RETURN(so.hmac_secret, ReadSecretFile(secret_file));
  }

  // Not initialised: FailedPrecondition (exit 6) saying to run `clawback init`, as every
  // command that needs a data dir says.
  ASSIGN_OR_RETURN(std::unique_ptr<ledger::Ledger> ledger, OpenDataDirLedger(cli));
  auto tokens = ledger->CountTokens();
  if (tokens.ok() && *tokens == 0)
    std::fprintf(stderr,
                 "clawback: no API tokens yet; every /v1 request will get 401. Create one with\n"
                 "  clawback token create --role ingest\n");

  // Block the stop signals in every thread (the server's threads inherit this mask) and
  // wait for them here.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  // Telemetry out (OTLP traces, Loki lines, Grafana annotations) from every committed batch.
  ASSIGN_OR_RETURN(telemetry::TelemetryOptions topts, telemetry::ParseTelemetryOptions(config));
  std::unique_ptr<telemetry::TelemetryPipeline> pipeline;
  if (topts.enabled()) {
    so.writer.on_committed = [&pipeline](const ledger::WriteBatch& b) {
      if (pipeline) pipeline->OnCommitted(b);
    };
  }

  so.snapshots = OpenServeSnapshots(cli, config);  // the repository opens in the background
  auto learn = std::make_shared<service::LearnService>(config, ledger.get());
  so.recommendations = service::LearnService::RecommendationsFn(learn);
  so.routes = service::ApiRoutes({ledger.get(), learn});
  ingest::IngestServer srv(ledger.get(), so);
  if (topts.enabled()) pipeline = std::make_unique<telemetry::TelemetryPipeline>(topts, &srv.metrics());
  RETURN_IF_ERROR(srv.Start());
  std::string host = srv.host().find(':') != std::string::npos ? "[" + srv.host() + "]" : srv.host();
  std::printf("clawback: listening on http://%s:%d (ledger: %s)\n", host.c_str(), srv.port(),
              std::string(ledger->backend()).c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop, &sig);
  std::fprintf(stderr, "clawback: %s received, draining writes and stopping\n",
               sig == SIGINT ? "SIGINT" : "SIGTERM");
  srv.Stop();
  if (pipeline && !pipeline->Flush(std::chrono::seconds(5)))
    std::fprintf(stderr, "clawback: telemetry not fully delivered within 5 s; the rest is dropped\n");
  pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
  return Status::Ok();
}

void Register(CLI::App& app, Cli& cli) {
  auto opts = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand(
      "serve",
      "Run the HTTP API: OpenClaw hook events, generic events, commits, deployments, traces and "
      "/metrics");
  cmd->add_option("--listen", opts->listen,
                  "ADDR:PORT to listen on (default: [server] listen in config.toml, "
                  "127.0.0.1:18800); port 0 picks a free port");
  cmd->add_option("--threads", opts->threads, "HTTP worker threads (default: [server] threads)");
  cmd->footer(
      "Requests need `Authorization: Bearer <token>` (see `clawback token create`): viewer for\n"
      "reads, ingest for writes. /healthz, /readyz and /metrics need none (set\n"
      "[server] metrics_require_token = true to require a viewer token for /metrics).\n"
      "With [server] hmac_secret_file set, writes must also carry\n"
      "`X-Clawback-Signature: sha256=<hex HMAC-SHA256 of the body>`.\n"
      "SIGINT/SIGTERM stop it after committing every accepted request.\n\n"
      "Examples:\n"
      "  clawback serve\n"
      "  clawback serve --listen 127.0.0.1:0\n"
      "  curl -H \"Authorization: Bearer $TOKEN\" -d '{\"hook\":\"session_start\",\"event\":{},\n"
      "       \"ctx\":{\"sessionKey\":\"agent:main:main\",\"sessionId\":\"s1\"}}' \\\n"
      "       http://127.0.0.1:18800/v1/openclaw/events");
  cmd->callback([&cli, opts] { cli.status = Serve(cli, *opts); });
}

CLAWBACK_REGISTER_COMMAND(20, Register);

}  // namespace
}  // namespace clawback::cli
