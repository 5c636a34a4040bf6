// `clawback snapshot` (take one) and `clawback snapshots` (list them).
#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "cli/cli.h"
#include "cli/cmd_repo_common.h"
#include "service/snapshots.h"
#include "cli/spine_client.h"
#include "common/clock.h"
#include "common/uuid.h"
#include "record/direct.h"
#include "store/archiver/archiver.h"
#include "store/lock/repo_lock.h"

namespace clawback::cli {
namespace {

struct SnapshotOptions {
  RepoFlags repo;
  std::vector<std::string> paths;
  std::vector<std::string> tags;
  std::string conversation;
  std::string reason;
  std::string host;
  std::vector<std::string> excludes;
  std::string parent;
  bool force = false;
  bool no_ignore_files = false;
  int threads = 0;
};

// Records the snapshot in the data dir's ledger when there is one; problems are warnings.
void RecordInLedger(Cli& cli, const std::string& repo_url, const store::ArchiveSummary& s,
                    const std::optional<Uuid>& conversation, const std::string& reason) {
  auto ledger = OpenDataDirLedger(cli);
  if (!ledger.ok()) {
    if (ledger.status().code() != StatusCode::kFailedPrecondition) {
      std::fprintf(stderr, "warning: snapshot not recorded in the ledger: %s\n",
                   ledger.status().ToString().c_str());
    }
    return;
  }
  record::SnapshotOutcome outcome;
  outcome.record = service::SnapshotRecordFor(repo_url, s, conversation, reason);
  // The rule `clawback serve` records its snapshots with (POST /v1/snapshots).
  auto st = record::ApplyJob(ledger->get(), record::RecordSnapshotJob(std::move(outcome), conversation, "cli"));
  if (!st.ok()) {
    std::fprintf(stderr, "warning: snapshot not recorded in the ledger: %s\n",
                 st.status().ToString().c_str());
  }
}

uint64_t U64(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number_unsigned() ? j[key].get<uint64_t>() : 0;
}

// Prints the summary document (the same from a local run and from a server).
void PrintSummary(const Cli& cli, const nlohmann::json& sum) {
  if (sum.contains("warnings") && sum["warnings"].is_array()) {
    for (const auto& w : sum["warnings"]) {
      if (w.is_string()) std::fprintf(stderr, "warning: %s\n", w.get<std::string>().c_str());
    }
  }
  if (cli.global.json) {
    nlohmann::json out = sum;
    out.erase("short_id");
    out.erase("conversation_id");
    PrintJson(out);
    return;
  }
  std::printf("Files: %llu new, %llu changed, %llu unmodified\n",
              static_cast<unsigned long long>(U64(sum, "files_new")),
              static_cast<unsigned long long>(U64(sum, "files_changed")),
              static_cast<unsigned long long>(U64(sum, "files_unmodified")));
  std::printf("Added to the repository: %s (%s stored)\n", HumanBytes(U64(sum, "data_added")).c_str(),
              HumanBytes(U64(sum, "data_added_packed")).c_str());
  double secs = sum.contains("total_duration") && sum["total_duration"].is_number()
                    ? sum["total_duration"].get<double>()
                    : 0.0;
  std::printf("processed %llu files, %s in %s\n",
              static_cast<unsigned long long>(U64(sum, "total_files_processed")),
              HumanBytes(U64(sum, "total_bytes_processed")).c_str(), HumanDuration(secs).c_str());
  std::string id = sum.value("snapshot_id", std::string());
  std::printf("snapshot %s saved\n", id.substr(0, 8).c_str());
}

// Through `clawback serve` (POST /v1/snapshots): its repository is already open, so no key
// derivation here; the server records the snapshot in its ledger.
Status RunSnapshotOnServer(Cli& cli, const std::string& server, const SnapshotOptions& opt,
                           record::SnapshotRequest req) {
  if (!opt.parent.empty()) return InvalidArgument("--parent cannot be used with --server");
  if (!opt.repo.password_file.empty()) {
    return InvalidArgument("--password-file cannot be used with --server (the server's repository is open)");
  }
  for (auto& p : req.paths) {
    auto abs = store::AbsolutePath(p);
    if (!abs.ok()) return abs.status();
    p = *abs;
  }
  nlohmann::json body = {{"paths", req.paths}, {"tags", req.tags},     {"reason", req.reason},
                         {"host", req.host},   {"excludes", req.excludes}, {"force", req.force},
                         {"actor", "cli"}};
  if (req.conversation) body["conversation"] = req.conversation->ToString();
  if (!opt.repo.repo.empty()) body["repository"] = service::CanonicalRepoUrl(opt.repo.repo);
  // Long read timeout: a first snapshot of a large tree takes a while.
  ASSIGN_OR_RETURN(nlohmann::json sum,
                   PostToServer(server, "/v1/snapshots", body, "snapshot via " + server, 24 * 3600));
  if (!sum.is_object() || !sum.contains("snapshot_id") || !sum["snapshot_id"].is_string()) {
    return Internal("the server's snapshot answer has no snapshot_id: " + sum.dump());
  }
  PrintSummary(cli, sum);
  return Status::Ok();
}

Status RunSnapshot(Cli& cli, SnapshotOptions opt) {
  record::SnapshotRequest req;
  req.paths = opt.paths;
  std::string conv_text = opt.conversation;
  if (conv_text.empty()) {
    if (const char* e = std::getenv("CLAWBACK_CONVERSATION_ID"); e != nullptr) conv_text = e;
  }
  if (!conv_text.empty()) {
    req.conversation = Uuid::Parse(conv_text);
    if (!req.conversation) return InvalidArgument("--conversation \"" + conv_text + "\" is not a UUID");
  }
  req.tags = opt.tags;
  req.reason = opt.reason;
  req.host = opt.host;
  req.excludes = opt.excludes;
  req.force = opt.force;
  // Validate before talking to anyone.
  {
    record::SnapshotRequest probe = req;
    if (probe.paths.empty()) probe.paths.push_back("/");
    RETURN_IF_ERROR(service::MakeArchiveOptions(probe).status());
  }
  if (std::string server = cli.ServerUrl(); !server.empty()) {
    if (opt.no_ignore_files) return InvalidArgument("--no-ignore-files cannot be used with --server");
    return RunSnapshotOnServer(cli, server, opt, std::move(req));
  }

  if (req.paths.empty()) {
    ASSIGN_OR_RETURN(Config config, cli.LoadConfig());
    req.paths = config.repository.managed_paths;
    if (req.paths.empty()) {
      return InvalidArgument(
          "no paths to snapshot: give PATH arguments or set [repository] managed_paths in " +
          cli.ConfigPath());
    }
  }
  ASSIGN_OR_RETURN(store::ArchiveOptions a, service::MakeArchiveOptions(req));
  a.ignore_files = !opt.no_ignore_files;
  a.threads = opt.threads;

  ASSIGN_OR_RETURN(OpenedRepo o, OpenRepo(cli, opt.repo, false));
  ASSIGN_OR_RETURN(auto lock, store::RepoLock::Acquire(o.repo.get(), store::LockKind::kShared));
  RETURN_IF_ERROR(o.repo->LoadIndex());
  if (!opt.parent.empty()) {
    ASSIGN_OR_RETURN(auto p, o.repo->FindSnapshot(opt.parent));
    a.parent = p.id;
  }

  store::Archiver archiver(o.repo.get(), std::move(a));
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  ProgressLine progress(
      cli,
      [&archiver, elapsed] {
        auto p = archiver.Progress();
        double s = elapsed();
        return "snapshot: " + std::to_string(p.files) + " files, " + HumanBytes(p.bytes) + ", " +
               HumanBytes(s > 0 ? static_cast<uint64_t>(static_cast<double>(p.bytes_read) / s) : 0) +
               "/s read, " + HumanBytes(p.bytes_added) + " added, " + HumanDuration(s);
      },
      [&archiver, elapsed] {
        auto p = archiver.Progress();
        return nlohmann::json{{"message_type", "status"},
                              {"seconds_elapsed", elapsed()},
                              {"files_done", p.files},
                              {"bytes_done", p.bytes},
                              {"bytes_read", p.bytes_read},
                              {"bytes_added", p.bytes_added},
                              {"error_count", p.errors}};
      });
  auto result = archiver.Run();
  progress.Stop();
  Status released = lock->Release();
  if (!result.ok()) return result.status();
  const store::ArchiveSummary& s = *result;
  RecordInLedger(cli, o.url, s, req.conversation, req.reason);
  PrintSummary(cli, service::ArchiveSummaryJson(s));
  return released;
}

struct ListOptions {
  RepoFlags repo;
  std::vector<std::string> tags;
  std::string host;
  std::vector<std::string> paths;
};

bool MatchesTags(const store::Snapshot& s, const std::vector<std::string>& filters) {
  if (filters.empty()) return true;
  // Each --tag value may be "a,b" (all of them); any --tag value matching is enough.
  for (const auto& f : filters) {
    bool all = true;
    size_t i = 0;
    while (i <= f.size()) {
      size_t j = f.find(',', i);
      if (j == std::string::npos) j = f.size();
      std::string t = f.substr(i, j - i);
      if (!t.empty() && !s.HasTag(t)) all = false;
      i = j + 1;
    }
    if (all) return true;
  }
  return false;
}

Status RunList(Cli& cli, const ListOptions& opt) {
  ASSIGN_OR_RETURN(OpenedRepo o, OpenRepo(cli, opt.repo, false));
  ASSIGN_OR_RETURN(auto all, o.repo->ListSnapshots(/*skip_broken=*/true));
  std::vector<store::SnapshotEntry> shown;
  for (auto& e : all) {
    if (!MatchesTags(e.snapshot, opt.tags)) continue;
    if (!opt.host.empty() && e.snapshot.hostname != opt.host) continue;
    if (!opt.paths.empty()) {
      bool ok = true;
      for (const auto& p : opt.paths) {
        if (std::find(e.snapshot.paths.begin(), e.snapshot.paths.end(), p) == e.snapshot.paths.end()) {
          ok = false;
        }
      }
      if (!ok) continue;
    }
    shown.push_back(std::move(e));
  }
  std::stable_sort(shown.begin(), shown.end(), [](const auto& a, const auto& b) {
    return a.snapshot.time.Before(b.snapshot.time);
  });
  if (cli.global.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& e : shown) {
      nlohmann::json j = nlohmann::json::parse(e.snapshot.ToJson(), nullptr, false);
      if (j.is_discarded()) j = nlohmann::json::object();
      j["id"] = e.id.Hex();
      j["short_id"] = e.id.ShortHex();
      arr.push_back(std::move(j));
    }
    PrintJson(arr);
    return Status::Ok();
  }
  std::printf("%-8s  %-25s  %-12s  %-40s  %s\n", "ID", "Time", "Host", "Tags", "Paths");
  for (const auto& e : shown) {
    std::string tags;
    for (const auto& t : e.snapshot.tags) tags += (tags.empty() ? "" : ",") + t;
    std::string paths;
    for (const auto& p : e.snapshot.paths) paths += (paths.empty() ? "" : " ") + p;
    std::printf("%-8s  %-25s  %-12s  %-40s  %s\n", e.id.ShortHex().c_str(),
                e.snapshot.time.ToRfc3339().substr(0, 19).c_str(), e.snapshot.hostname.c_str(),
                tags.c_str(), paths.c_str());
  }
  std::printf("%zu snapshot%s\n", shown.size(), shown.size() == 1 ? "" : "s");
  return Status::Ok();
}

void Register(CLI::App& app, Cli& cli) {
  auto opt = std::make_shared<SnapshotOptions>();
  auto* snap = app.add_subcommand("snapshot", "Take a snapshot of files and directories");
  AddRepoFlags(snap, &opt->repo);
  snap->add_option("paths", opt->paths,
                   "Files and directories (default: [repository] managed_paths of the config)");
  snap->add_option("--tag", opt->tags, "A tag to add, e.g. --tag env=prod (repeatable)");
  snap->add_option("--conversation", opt->conversation,
                   "The conversation this snapshot belongs to (default: "
                   "$CLAWBACK_CONVERSATION_ID); tagged conversation=<id>");
  snap->add_option("--reason", opt->reason, "Why: pre, post, scheduled, manual, …; tagged reason=<r>");
  snap->add_option("--host", opt->host, "Host name to record (default: this machine's)");
  snap->add_option("--exclude", opt->excludes,
                   "Skip paths matching a pattern (*.tmp, /srv/cache, logs/**/*.gz; repeatable)");
  snap->add_flag("--no-ignore-files", opt->no_ignore_files, "Do not read .clawbackignore files");
  snap->add_option("--parent", opt->parent,
                   "Compare against this snapshot (default: the newest with the same host and paths)");
  snap->add_flag("--force", opt->force, "Re-read every file instead of trusting unchanged metadata");
  snap->add_option("--threads", opt->threads, "File workers (default: one per core)");
  snap->footer(
      "Unchanged files (same size, mtime, ctime and inode as in the parent snapshot) are not\n"
      "read again. A .clawbackignore file in any directory lists patterns to skip below it.\n"
      "The snapshot is recorded in the ledger when the data dir has one.\n"
      "With --server URL (or $CLAWBACK_SERVER) the running `clawback serve` takes the snapshot\n"
      "into its repository, which it keeps open (no key derivation per snapshot), and records it\n"
      "in its ledger; $CLAWBACK_TOKEN must hold an operator token. Paths are made absolute here.\n\n"
      "Examples:\n"
      "  clawback snapshot /etc /srv/app --reason pre --conversation 0190b5c8-…\n"
      "  clawback snapshot --repo /srv/backup --password-file pw ~/project --exclude node_modules/\n"
      "  clawback --json snapshot /srv/app     # status lines, then a summary line");
  snap->callback([&cli, opt] { cli.status = RunSnapshot(cli, *opt); });

  auto lopt = std::make_shared<ListOptions>();
  auto* list = app.add_subcommand("snapshots", "List the repository's snapshots");
  AddRepoFlags(list, &lopt->repo);
  list->add_option("--tag", lopt->tags,
                   "Only snapshots with these tags (a,b = both; repeat for either)");
  list->add_option("--host", lopt->host, "Only snapshots of this host");
  list->add_option("--path", lopt->paths, "Only snapshots including this path");
  list->footer(
      "Examples:\n"
      "  clawback snapshots --tag reason=pre\n"
      "  clawback --json snapshots --tag conversation=0190b5c8-…");
  list->callback([&cli, lopt] { cli.status = RunList(cli, *lopt); });
}

CLAWBACK_REGISTER_COMMAND(110, Register);

}  // namespace
}  // namespace clawback::cli
