// `clawback forget` (remove snapshots by policy or id) and `clawback prune` (remove the
// data no snapshot needs any more).
#include <algorithm>

#include "cli/cli.h"
#include "cli/cmd_repo_common.h"
#include "store/forget/policy.h"
#include "store/forget/prune.h"
#include "store/lock/repo_lock.h"

namespace clawback::cli {
namespace {

struct ForgetOptions {
  RepoFlags repo;
  std::vector<std::string> ids;
  int last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
  std::string within;
  std::vector<std::string> keep_tags;
  std::string group_by = "host,paths";
  std::vector<std::string> tag_filter;
  std::string host_filter;
  bool prune = false;
  bool dry_run = false;
};

nlohmann::json PruneJson(const store::PruneReport& r) {
  return {{"packs_total", r.packs_total},         {"packs_kept", r.packs_kept},
          {"packs_deleted", r.packs_deleted},     {"packs_repacked", r.packs_repacked},
          {"packs_unindexed", r.packs_unindexed}, {"packs_written", r.packs_written},
          {"blobs_used", r.blobs_used},           {"blobs_unused", r.blobs_unused},
          {"blobs_repacked", r.blobs_repacked},   {"bytes_freed", r.bytes_freed},
          {"index_files_removed", r.index_files_removed},
          {"temporaries_removed", r.temporaries_removed}};
}

void PrintPrune(const store::PruneReport& r, bool dry_run) {
  std::printf("%s%llu packs: %llu kept, %llu deleted, %llu repacked, %llu unreferenced removed; "
              "%llu unused blobs; %s freed\n",
              dry_run ? "would prune: " : "pruned: ", static_cast<unsigned long long>(r.packs_total),
              static_cast<unsigned long long>(r.packs_kept),
              static_cast<unsigned long long>(r.packs_deleted),
              static_cast<unsigned long long>(r.packs_repacked),
              static_cast<unsigned long long>(r.packs_unindexed),
              static_cast<unsigned long long>(r.blobs_unused), HumanBytes(r.bytes_freed).c_str());
  if (r.temporaries_removed > 0) {
    std::printf("removed %llu temporary files left by interrupted writes\n",
                static_cast<unsigned long long>(r.temporaries_removed));
  }
}

Result<store::PruneReport> PruneLocked(store::Repository* repo, bool dry_run) {
  RETURN_IF_ERROR(repo->LoadIndex());
  store::PruneOptions po;
  po.dry_run = dry_run;
  return store::Prune(repo, po);
}

Status RunForget(Cli& cli, const ForgetOptions& opt) {
  store::forget::Policy policy;
  policy.last = opt.last;
  policy.hourly = opt.hourly;
  policy.daily = opt.daily;
  policy.weekly = opt.weekly;
  policy.monthly = opt.monthly;
  policy.yearly = opt.yearly;
  if (!opt.within.empty()) {
    ASSIGN_OR_RETURN(policy.within, store::forget::ParseDuration(opt.within));
  }
  for (const auto& t : opt.keep_tags) policy.AddKeepTag(t);
  ASSIGN_OR_RETURN(auto group_by, store::forget::ParseGroupBy(opt.group_by));
  if (opt.ids.empty() && policy.Empty()) {
    return InvalidArgument(
        "no policy given: nothing would be kept, so nothing is removed. Give --keep-* options "
        "or snapshot ids");
  }

  ASSIGN_OR_RETURN(OpenedRepo o, OpenRepo(cli, opt.repo, false));
  ASSIGN_OR_RETURN(auto lock, store::RepoLock::Acquire(o.repo.get(), store::LockKind::kExclusive));
  ASSIGN_OR_RETURN(auto all, o.repo->ListSnapshots(/*skip_broken=*/false));

  std::vector<store::Id> remove;
  nlohmann::json groups_json = nlohmann::json::array();
  if (!opt.ids.empty()) {
    for (const auto& ref : opt.ids) {
      ASSIGN_OR_RETURN(auto e, o.repo->FindSnapshot(ref));
      remove.push_back(e.id);
    }
  } else {
    std::vector<store::forget::SnapshotInfo> infos;
    for (const auto& e : all) {
      if (!opt.host_filter.empty() && e.snapshot.hostname != opt.host_filter) continue;
      bool tags_ok = opt.tag_filter.empty();
      for (const auto& t : opt.tag_filter) tags_ok = tags_ok || e.snapshot.HasTag(t);
      if (!tags_ok) continue;
      store::forget::SnapshotInfo i;
      i.id = e.id.Hex();
      i.unix_nanos = e.snapshot.time.unix_seconds * 1'000'000'000 + e.snapshot.time.nanos;
      i.utc_offset_seconds = e.snapshot.time.utc_offset_seconds;
      i.hostname = e.snapshot.hostname;
      i.paths = e.snapshot.paths;
      i.tags = e.snapshot.tags;
      infos.push_back(std::move(i));
    }
    for (const auto& g : store::forget::ApplyPolicyGrouped(infos, policy, group_by)) {
      nlohmann::json keep = nlohmann::json::array(), rm = nlohmann::json::array();
      if (!cli.global.json) {
        std::string paths;
        for (const auto& p : g.paths) paths += (paths.empty() ? "" : ", ") + p;
        std::printf("snapshots of host [%s], paths [%s]:\n", g.hostname.c_str(), paths.c_str());
      }
      for (const auto& d : g.decisions) {
        std::string reasons;
        for (const auto& r : d.reasons) reasons += (reasons.empty() ? "" : ", ") + r;
        if (d.keep) {
          keep.push_back({{"id", d.snapshot.id}, {"reasons", d.reasons}});
        } else {
          rm.push_back({{"id", d.snapshot.id}});
          remove.push_back(*store::Id::Parse(d.snapshot.id));
        }
        if (!cli.global.json) {
          std::printf("  %s %s  %s\n", d.keep ? "keep  " : "remove", d.snapshot.id.substr(0, 8).c_str(),
                      reasons.c_str());
        }
      }
      groups_json.push_back({{"host", g.hostname}, {"paths", g.paths}, {"keep", keep}, {"remove", rm}});
    }
  }

  if (!opt.dry_run) {
    for (const auto& id : remove) {
      Status st = o.backend->Remove(store::FileType::kSnapshot, id.Hex());
      if (!st.ok() && st.code() != StatusCode::kNotFound) return st;
    }
  }
  if (!cli.global.json) {
    std::printf("%s %zu snapshot%s\n", opt.dry_run ? "would remove" : "removed", remove.size(),
                remove.size() == 1 ? "" : "s");
  }
  nlohmann::json out = {{"message_type", "forget"}, {"dry_run", opt.dry_run}, {"groups", groups_json}};
  nlohmann::json removed = nlohmann::json::array();
  for (const auto& id : remove) removed.push_back(id.Hex());
  out["removed"] = removed;
  if (opt.prune) {
    // In a dry run the snapshots are still there, so prune would see them as used.
    if (opt.dry_run) {
      if (!cli.global.json) std::printf("(prune skipped in a dry run)\n");
    } else {
      ASSIGN_OR_RETURN(auto rep, PruneLocked(o.repo.get(), false));
      if (cli.global.json) {
        out["prune"] = PruneJson(rep);
      } else {
        PrintPrune(rep, false);
      }
    }
  }
  if (cli.global.json) PrintJson(out);
  return lock->Release();
}

struct PruneCmdOptions {
  RepoFlags repo;
  bool dry_run = false;
};

Status RunPrune(Cli& cli, const PruneCmdOptions& opt) {
  ASSIGN_OR_RETURN(OpenedRepo o, OpenRepo(cli, opt.repo, false));
  ASSIGN_OR_RETURN(auto lock, store::RepoLock::Acquire(o.repo.get(), store::LockKind::kExclusive));
  ASSIGN_OR_RETURN(auto rep, PruneLocked(o.repo.get(), opt.dry_run));
  if (cli.global.json) {
    nlohmann::json j = PruneJson(rep);
    j["message_type"] = "prune";
    j["dry_run"] = opt.dry_run;
    PrintJson(j);
  } else {
    PrintPrune(rep, opt.dry_run);
  }
  return lock->Release();
}

void Register(CLI::App& app, Cli& cli) {
  auto opt = std::make_shared<ForgetOptions>();
  auto* forget = app.add_subcommand("forget", "Remove snapshots by policy (or by id)");
  AddRepoFlags(forget, &opt->repo);
  forget->add_option("snapshots", opt->ids, "Snapshot ids to remove (instead of a policy)");
  forget->add_option("--keep-last", opt->last, "Keep the N newest snapshots (-1: all)");
  forget->add_option("--keep-hourly", opt->hourly, "Keep the newest of each of the last N hours");
  forget->add_option("--keep-daily", opt->daily, "Keep the newest of each of the last N days");
  forget->add_option("--keep-weekly", opt->weekly, "Keep the newest of each of the last N weeks");
  forget->add_option("--keep-monthly", opt->monthly, "Keep the newest of each of the last N months");
  forget->add_option("--keep-yearly", opt->yearly, "Keep the newest of each of the last N years");
  forget->add_option("--keep-within", opt->within,
                     "Keep everything newer than DURATION before the newest snapshot (e.g. 90d, 1y2m)");
  forget->add_option("--keep-tag", opt->keep_tags, "Keep snapshots with these tags (a,b = both)");
  forget->add_option("--group-by", opt->group_by, "Apply the policy per host,paths (default), tags or ''");
  forget->add_option("--tag", opt->tag_filter, "Only consider snapshots with one of these tags");
  forget->add_option("--host", opt->host_filter, "Only consider snapshots of this host");
  forget->add_flag("--prune", opt->prune, "Also remove the data no snapshot needs any more");
  forget->add_flag("--dry-run,-n", opt->dry_run, "Only show what would be removed");
  forget->footer(
      "Rules work as in restic: a snapshot is kept when any rule keeps it; counts apply per\n"
      "group (host and paths by default), newest first, in the snapshot's own time zone.\n\n"
      "Examples:\n"
      "  clawback forget --keep-within 90d --keep-tag reason=pre --prune\n"
      "  clawback forget --keep-last 10 --keep-daily 7 --keep-weekly 4 --dry-run\n"
      "  clawback forget 1a2b3c4d");
  forget->callback([&cli, opt] { cli.status = RunForget(cli, *opt); });

  auto popt = std::make_shared<PruneCmdOptions>();
  auto* prune = app.add_subcommand("prune", "Remove data that no snapshot references");
  AddRepoFlags(prune, &popt->repo);
  prune->add_flag("--dry-run,-n", popt->dry_run, "Only show what would be removed");
  prune->footer(
      "Deletes unused packs, repacks partly used ones, removes packs no index lists (left by\n"
      "interrupted snapshots) and rewrites the index. Takes an exclusive lock. New packs and\n"
      "the new index are written before anything is deleted, so an interrupted prune is safe.\n\n"
      "Example:\n  clawback prune --dry-run");
  prune->callback([&cli, popt] { cli.status = RunPrune(cli, *popt); });
}

CLAWBACK_REGISTER_COMMAND(140, Register);

}  // namespace
}  // namespace clawback::cli
