#include "service/daemon.h"

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "service/api_routes.h"

namespace clawback::service {
namespace {

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

}  // namespace

Result<std::unique_ptr<Daemon>> Daemon::Create(const Config& config, ledger::Ledger* ledger,
                                               DaemonOptions options) {
  std::unique_ptr<Daemon> d(new Daemon());
  d->ledger_ = ledger;
  ingest::ServerOptions so;
  so.listen = options.listen.empty() ? config.server.listen : options.listen;
  so.max_body_bytes = static_cast<size_t>(config.server.max_body_bytes);
  so.metrics_require_token = config.server.metrics_require_token;
  so.threads = options.threads > 0 ? options.threads : static_cast<int>(config.server.threads);
  ConfigSection server = config.Section("server");
  ASSIGN_OR_RETURN(std::string secret_file, server.GetString("hmac_secret_file", ""));
  if (!secret_file.empty()) {
    if (secret_file[0] != '/') secret_file = config.data_dir() + "/" + secret_file;
    ASSIGN_OR_RETURN(so.hmac_secret, ReadSecretFile(secret_file));
  }
  ASSIGN_OR_RETURN(d->telemetry_options_, telemetry::ParseTelemetryOptions(config));

  Daemon* self = d.get();
  if (d->telemetry_options_.enabled()) {
    // Telemetry out (OTLP traces, Loki lines, Grafana annotations) from every committed batch.
    so.writer.on_committed = [self](const ledger::WriteBatch& b) {
      if (self->follower_) self->follower_->NoteOwn(b);  // first: the follower skips these
      if (self->pipeline_) self->pipeline_->OnCommitted(b);
    };
  }
  so.snapshots = OpenSnapshots(std::move(options.snapshots));  // opens in the background
  d->learn_ = std::make_shared<LearnService>(config, ledger);
  so.recommendations = LearnService::RecommendationsFn(d->learn_);
  so.routes = ApiRoutes({ledger, d->learn_});
  d->server_ = std::make_unique<ingest::IngestServer>(ledger, std::move(so));

  // The list: start order. Add a component here.
  d->components_.push_back(
      {"telemetry",
       [self]() {
         if (!self->telemetry_options_.enabled()) return Status::Ok();
         self->pipeline_ = std::make_unique<telemetry::TelemetryPipeline>(self->telemetry_options_,
                                                                           &self->server_->metrics());
         telemetry::TelemetryPipeline* p = self->pipeline_.get();
         self->follower_ = std::make_unique<telemetry::LedgerFollower>(
             self->ledger_, [p](const ledger::WriteBatch& b) { p->OnCommitted(b); });
         self->follower_->Start();
         return Status::Ok();
       },
       [self]() {
         if (self->follower_) self->follower_->Stop();  // hands over what others committed last
         if (self->pipeline_ && !self->pipeline_->Flush(std::chrono::seconds(5)))
           std::fprintf(stderr, "clawback: telemetry not fully delivered within 5 s; the rest is dropped\n");
       }});
  d->components_.push_back({"http", [self]() { return self->server_->Start(); },
                            [self]() { self->server_->Stop(); }});
  return d;
}

Daemon::~Daemon() { Stop(); }

Status Daemon::Start() {
  for (; started_ < components_.size(); ++started_) {
    Status st = components_[started_].start();
    if (!st.ok()) {
      Stop();
      return st;
    }
  }
  return Status::Ok();
}

void Daemon::Stop() {
  while (started_ > 0) {
    --started_;
    components_[started_].stop();
  }
}

std::string Daemon::url() const {
  std::string host = server_->host();
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(server_->port());
}

}  // namespace clawback::service
