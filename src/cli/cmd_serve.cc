// `clawback serve`: parses its options and runs the daemon (service/daemon.h) until SIGINT or
// SIGTERM.
#include <signal.h>

#include <cstdio>

#include "cli/cli.h"
#include "cli/cmd_repo_common.h"
#include "cli/spine_client.h"
#include "ledger/ledger.h"
#include "service/daemon.h"

namespace clawback::cli {
namespace {

struct ServeOptions {
  std::string listen;
  int threads = 0;
};

Status Serve(Cli& cli, const ServeOptions& opts) {
  ASSIGN_OR_RETURN(Config config, cli.LoadConfig());
  // Not initialised: FailedPrecondition (exit 6) saying to run `clawback init`, as every
  // command that needs a data dir says.
  ASSIGN_OR_RETURN(std::unique_ptr<ledger::Ledger> ledger, OpenDataDirLedger(cli));
  auto tokens = ledger->CountTokens();
  if (tokens.ok() && *tokens == 0)
    std::fprintf(stderr,
                 "clawback: no API tokens yet; every /v1 request will get 401. Create one with\n"
                 "  clawback token create --role ingest\n");

  service::DaemonOptions dopts;
  dopts.listen = opts.listen;
  dopts.threads = opts.threads;
  // The data dir's repository (or $CLAWBACK_REPOSITORY with $CLAWBACK_PASSWORD_FILE/…).
  dopts.snapshots.url = ResolveRepoUrl(cli, RepoFlags{});
  if (dopts.snapshots.url.ok())
    dopts.snapshots.password = ResolvePassword(cli, RepoFlags{}, &dopts.snapshots.password_source);
  dopts.snapshots.managed_paths = config.repository.managed_paths;
  ASSIGN_OR_RETURN(auto daemon, service::Daemon::Create(config, ledger.get(), std::move(dopts)));

  // Block the stop signals in every thread (the daemon's threads inherit this mask) and
  // wait for them here.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  Status started = daemon->Start();
  if (!started.ok()) {
    pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
    return started;
  }
  std::printf("clawback: listening on %s (ledger: %s)\n", daemon->url().c_str(),
              std::string(ledger->backend()).c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop, &sig);
  std::fprintf(stderr, "clawback: %s received, draining writes and stopping\n",
               sig == SIGINT ? "SIGINT" : "SIGTERM");
  daemon->Stop();
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
