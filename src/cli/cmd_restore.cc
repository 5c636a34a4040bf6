// `clawback restore`, `clawback ls` and `clawback diff`: reading snapshots back.
#include <unistd.h>

#include <chrono>

#include "cli/cli.h"
#include "cli/cmd_repo_common.h"
#include "store/lock/repo_lock.h"
#include "store/restorer/restorer.h"
#include "store/restorer/tree_walk.h"

namespace clawback::cli {
namespace {

struct RestoreCmdOptions {
  RepoFlags repo;
  std::string snapshot;
  std::string target;
  std::vector<std::string> includes;
  bool verify = false;
  int threads = 0;
};

Status RunRestore(Cli& cli, const RestoreCmdOptions& opt) {
  ASSIGN_OR_RETURN(OpenedRepo o, OpenRepo(cli, opt.repo, false));
  ASSIGN_OR_RETURN(auto lock, store::RepoLock::Acquire(o.repo.get(), store::LockKind::kShared));
  // Snapshots before the index (spec §14).
  ASSIGN_OR_RETURN(store::SnapshotEntry snap, o.repo->FindSnapshot(opt.snapshot));
  RETURN_IF_ERROR(o.repo->LoadIndex());
  store::RestoreOptions ro;
  ro.target = opt.target;
  ro.includes = opt.includes;
  ro.verify = opt.verify;
  ro.threads = opt.threads;
  ro.chown = geteuid() == 0;
  store::Restorer restorer(o.repo.get(), snap.snapshot.tree, ro);
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  ProgressLine progress(
      cli,
      [&restorer, elapsed] {
        auto p = restorer.Progress();
        double s = elapsed();
        double rate = s > 0 ? static_cast<double>(p.bytes) / s : 0;
        std::string line = "restore: " + std::to_string(p.files) + " files, " + HumanBytes(p.bytes);
        if (p.walk_done && p.total_bytes > 0) {
          line += " of " + HumanBytes(p.total_bytes);
          if (rate > 0 && p.total_bytes > p.bytes) {
            line += ", ETA " + HumanDuration(static_cast<double>(p.total_bytes - p.bytes) / rate);
          }
        }
        return line + ", " + HumanBytes(static_cast<uint64_t>(rate)) + "/s";
      },
      [&restorer, elapsed] {
        auto p = restorer.Progress();
        return nlohmann::json{{"message_type", "status"},
                              {"seconds_elapsed", elapsed()},
                              {"files_restored", p.files},
                              {"bytes_restored", p.bytes},
                              {"total_bytes", p.total_bytes}};
      });
  auto result = restorer.Run();
  progress.Stop();
  Status released = lock->Release();
  if (!result.ok()) return result.status();
  const auto& s = *result;
  for (const auto& e : s.errors) std::fprintf(stderr, "error: %s\n", e.c_str());
  if (cli.global.json) {
    PrintJson({{"message_type", "summary"},
               {"snapshot_id", snap.id.Hex()},
               {"target", opt.target},
               {"files_restored", s.files},
               {"dirs_restored", s.dirs},
               {"symlinks", s.symlinks},
               {"hardlinks", s.hardlinks},
               {"bytes_restored", s.bytes},
               {"files_verified", s.verified_files},
               {"errors", s.errors},
               {"total_duration", s.seconds}});
  } else {
    std::printf("restored snapshot %s to %s: %llu files, %llu dirs, %s in %s\n",
                snap.id.ShortHex().c_str(), opt.target.c_str(),
                static_cast<unsigned long long>(s.files), static_cast<unsigned long long>(s.dirs),
                HumanBytes(s.bytes).c_str(), HumanDuration(s.seconds).c_str());
    if (opt.verify && s.errors.empty()) {
      std::printf("verified %llu files: all content matches the snapshot\n",
                  static_cast<unsigned long long>(s.verified_files));
    }
  }
  if (!s.errors.empty()) {
    return IOError(std::to_string(s.errors.size()) + " error(s) while restoring (listed above)");
  }
  return released;
}

struct LsOptions {
  RepoFlags repo;
  std::string snapshot;
  std::string path;
};

nlohmann::json NodeJson(const std::string& path, const store::Node& n) {
  return {{"path", path},
          {"name", n.name},
          {"type", std::string(store::NodeTypeName(n.type))},
          {"mode", n.mode},
          {"size", n.size},
          {"uid", n.uid},
          {"gid", n.gid},
          {"mtime", n.mtime.ToRfc3339()},
          {"linktarget", n.linktarget}};
}

Status RunLs(Cli& cli, const LsOptions& opt) {
  ASSIGN_OR_RETURN(OpenedRepo o, OpenRepo(cli, opt.repo, false));
  ASSIGN_OR_RETURN(store::SnapshotEntry snap, o.repo->FindSnapshot(opt.snapshot));
  RETURN_IF_ERROR(o.repo->LoadIndex());
  std::string prefix = opt.path.empty() ? "/" : opt.path;
  if (prefix[0] != '/') prefix = "/" + prefix;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  ASSIGN_OR_RETURN(store::Node start, store::FindNode(o.repo.get(), snap.snapshot.tree, prefix));
  nlohmann::json arr = nlohmann::json::array();
  auto emit = [&](const std::string& path, const store::Node& n) {
    if (cli.global.json) {
      arr.push_back(NodeJson(path, n));
    } else {
      std::string suffix = n.type == store::NodeType::kDir       ? "/"
                           : n.type == store::NodeType::kSymlink ? " -> " + n.linktarget
                                                                 : "";
      std::printf("%s%s\n", path.c_str(), suffix.c_str());
    }
    return Status::Ok();
  };
  if (start.type == store::NodeType::kDir && start.subtree) {
    RETURN_IF_ERROR(store::WalkTree(o.repo.get(), *start.subtree, prefix, emit));
  } else {
    RETURN_IF_ERROR(emit(prefix, start));
  }
  if (cli.global.json) PrintJson({{"snapshot_id", snap.id.Hex()}, {"nodes", arr}});
  return Status::Ok();
}

struct DiffOptions {
  RepoFlags repo;
  std::string a, b;
};

Status RunDiff(Cli& cli, const DiffOptions& opt) {
  ASSIGN_OR_RETURN(OpenedRepo o, OpenRepo(cli, opt.repo, false));
  ASSIGN_OR_RETURN(store::SnapshotEntry a, o.repo->FindSnapshot(opt.a));
  ASSIGN_OR_RETURN(store::SnapshotEntry b, o.repo->FindSnapshot(opt.b));
  RETURN_IF_ERROR(o.repo->LoadIndex());
  store::DiffStats stats;
  ASSIGN_OR_RETURN(auto diff, store::DiffTrees(o.repo.get(), a.snapshot.tree, b.snapshot.tree, &stats));
  if (cli.global.json) {
    nlohmann::json changes = nlohmann::json::array();
    for (const auto& d : diff) {
      changes.push_back({{"path", d.path},
                         {"change", store::ChangeName(d.change)},
                         {"old_size", d.old_size},
                         {"new_size", d.new_size}});
    }
    PrintJson({{"from", a.id.Hex()},
               {"to", b.id.Hex()},
               {"changes", changes},
               {"stats",
                {{"added", stats.added},
                 {"removed", stats.removed},
                 {"modified", stats.modified},
                 {"metadata", stats.metadata},
                 {"type_changed", stats.type_changed},
                 {"bytes_added", stats.bytes_added},
                 {"bytes_removed", stats.bytes_removed}}}});
    return Status::Ok();
  }
  std::printf("comparing snapshot %s to %s:\n\n", a.id.ShortHex().c_str(), b.id.ShortHex().c_str());
  for (const auto& d : diff) {
    std::string sizes;
    if (d.change == store::Change::kModified) {
      sizes = "  (" + HumanBytes(d.old_size) + " -> " + HumanBytes(d.new_size) + ")";
    } else if (d.change == store::Change::kAdded && d.new_size > 0) {
      sizes = "  (" + HumanBytes(d.new_size) + ")";
    } else if (d.change == store::Change::kRemoved && d.old_size > 0) {
      sizes = "  (" + HumanBytes(d.old_size) + ")";
    }
    std::printf("%-5s%s%s\n", store::ChangeSymbol(d.change), d.path.c_str(), sizes.c_str());
  }
  std::printf("\n%llu added (%s), %llu removed (%s), %llu modified, %llu metadata only\n",
              static_cast<unsigned long long>(stats.added), HumanBytes(stats.bytes_added).c_str(),
              static_cast<unsigned long long>(stats.removed), HumanBytes(stats.bytes_removed).c_str(),
              static_cast<unsigned long long>(stats.modified),
              static_cast<unsigned long long>(stats.metadata));
  return Status::Ok();
}

void Register(CLI::App& app, Cli& cli) {
  auto opt = std::make_shared<RestoreCmdOptions>();
  auto* restore = app.add_subcommand("restore", "Restore a snapshot into a directory");
  AddRepoFlags(restore, &opt->repo);
  restore->add_option("snapshot", opt->snapshot, "Snapshot id (prefix) or `latest`")->required();
  restore->add_option("--target,-t", opt->target, "Directory to restore into (created if missing)")
      ->required();
  restore->add_option("--include,-i", opt->includes,
                      "Only this path of the snapshot (and what is below it), or a pattern "
                      "such as *.conf; repeatable");
  restore->add_flag("--verify", opt->verify, "Re-read the restored files and check their content");
  restore->add_option("--threads", opt->threads, "Writers (default: one per core)");
  restore->footer(
      "The snapshot's absolute paths appear below the target: a snapshot of /srv/app restored\n"
      "with --target /tmp/r gives /tmp/r/srv/app. Contents, modes, mtimes, symlinks, hard\n"
      "links and (as root) owners are restored; existing files are replaced.\n\n"
      "Examples:\n"
      "  clawback restore latest --target /tmp/restore --verify\n"
      "  clawback restore 1a2b3c4d --target / --include /srv/app/config.toml");
  restore->callback([&cli, opt] { cli.status = RunRestore(cli, *opt); });

  auto lopt = std::make_shared<LsOptions>();
  auto* ls = app.add_subcommand("ls", "List the files of a snapshot");
  AddRepoFlags(ls, &lopt->repo);
  ls->add_option("snapshot", lopt->snapshot, "Snapshot id (prefix) or `latest`")->required();
  ls->add_option("path", lopt->path, "Only below this path of the snapshot");
  ls->footer("Examples:\n  clawback ls latest /srv/app\n  clawback --json ls 1a2b3c4d");
  ls->callback([&cli, lopt] { cli.status = RunLs(cli, *lopt); });

  auto dopt = std::make_shared<DiffOptions>();
  auto* diff = app.add_subcommand("diff", "Show what changed between two snapshots");
  AddRepoFlags(diff, &dopt->repo);
  diff->add_option("snapshot_a", dopt->a, "The older snapshot (id prefix or latest)")->required();
  diff->add_option("snapshot_b", dopt->b, "The newer snapshot (id prefix or latest)")->required();
  diff->footer(
      "Symbols: + added, - removed, M content modified, U metadata only, T type changed.\n\n"
      "Examples:\n  clawback diff 1a2b3c4d latest\n  clawback --json diff 1a2b 5e6f");
  diff->callback([&cli, dopt] { cli.status = RunDiff(cli, *dopt); });
}

CLAWBACK_REGISTER_COMMAND(120, Register);

}  // namespace
}  // namespace clawback::cli
