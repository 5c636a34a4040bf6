// `clawback check`: verify the repository's structure and, optionally, its data.
#include <chrono>

#include "cli/cli.h"
#include "cli/cmd_repo_common.h"
#include "store/checker/checker.h"
#include "store/lock/repo_lock.h"

namespace clawback::cli {
namespace {

struct CheckCmdOptions {
  RepoFlags repo;
  bool read_data = false;
  std::string subset;
  int threads = 0;
};

Status RunCheck(Cli& cli, const CheckCmdOptions& opt) {
  store::CheckOptions co;
  co.read_data = opt.read_data || !opt.subset.empty();
  if (!opt.subset.empty()) {
    ASSIGN_OR_RETURN(co.subset, store::ParseReadDataSubset(opt.subset));
  }
  co.threads = opt.threads;
  ASSIGN_OR_RETURN(OpenedRepo o, OpenRepo(cli, opt.repo, false));
  ASSIGN_OR_RETURN(auto lock, store::RepoLock::Acquire(o.repo.get(), store::LockKind::kExclusive));
  store::Checker checker(o.repo.get(), co);
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  ProgressLine progress(
      cli,
      [&checker, elapsed] {
        auto p = checker.Progress();
        if (p.packs_to_read == 0) return "check: " + std::to_string(p.trees) + " trees";
        double s = elapsed();
        double rate = s > 0 ? static_cast<double>(p.bytes_read) / s : 0;
        std::string line = "check: read " + std::to_string(p.packs_read) + " of " +
                           std::to_string(p.packs_to_read) + " packs, " + HumanBytes(p.bytes_read) +
                           " of " + HumanBytes(p.bytes_to_read);
        if (rate > 0 && p.bytes_to_read > p.bytes_read) {
          line += ", ETA " + HumanDuration(static_cast<double>(p.bytes_to_read - p.bytes_read) / rate);
        }
        return line;
      },
      [&checker, elapsed] {
        auto p = checker.Progress();
        return nlohmann::json{{"message_type", "status"},
                              {"seconds_elapsed", elapsed()},
                              {"trees", p.trees},
                              {"packs_read", p.packs_read},
                              {"packs_to_read", p.packs_to_read},
                              {"bytes_read", p.bytes_read},
                              {"bytes_to_read", p.bytes_to_read}};
      });
  auto result = checker.Run();
  progress.Stop();
  Status released = lock->Release();
  if (!result.ok()) return result.status();
  const auto& r = *result;
  if (cli.global.json) {
    nlohmann::json damaged = nlohmann::json::array();
    for (const auto& d : r.damaged_packs) {
      nlohmann::json snaps = nlohmann::json::array();
      for (const auto& s : d.snapshots) snaps.push_back(s.Hex());
      damaged.push_back({{"pack", d.pack.Hex()}, {"error", d.error}, {"snapshots", snaps}});
    }
    PrintJson({{"message_type", "summary"},
               {"ok", r.ok()},
               {"errors", r.errors},
               {"hints", r.hints},
               {"damaged_packs", damaged},
               {"snapshots", r.snapshots},
               {"trees", r.trees},
               {"packs", r.packs},
               {"packs_read", r.packs_read},
               {"bytes_read", r.bytes_read},
               {"unreferenced_packs", r.unreferenced_packs}});
  } else {
    std::printf("checked %llu snapshots, %llu trees, %llu packs",
                static_cast<unsigned long long>(r.snapshots), static_cast<unsigned long long>(r.trees),
                static_cast<unsigned long long>(r.packs));
    if (co.read_data) {
      std::printf("; read %llu packs (%s)", static_cast<unsigned long long>(r.packs_read),
                  HumanBytes(r.bytes_read).c_str());
    }
    std::printf("\n");
    for (const auto& h : r.hints) std::printf("hint: %s\n", h.c_str());
    for (const auto& e : r.errors) std::fprintf(stderr, "error: %s\n", e.c_str());
    if (r.ok()) std::printf("no errors were found\n");
  }
  if (!r.ok()) {
    return Corruption("check found " + std::to_string(r.errors.size()) + " error(s)");
  }
  return released;
}

void Register(CLI::App& app, Cli& cli) {
  auto opt = std::make_shared<CheckCmdOptions>();
  auto* check = app.add_subcommand("check", "Verify the repository (structure, and data with --read-data)");
  AddRepoFlags(check, &opt->repo);
  check->add_flag("--read-data", opt->read_data,
                  "Also read every pack: hashes, MACs, decompression, header vs index");
  check->add_option("--read-data-subset", opt->subset,
                    "Read only part of the packs: N% (random) or n/m (bucket n of m)");
  check->add_option("--threads", opt->threads, "Readers (default: one per core)");
  check->footer(
      "Exits 0 with \"no errors were found\", 8 when something is damaged: a damaged pack is\n"
      "named together with the snapshots that use its blobs. Takes an exclusive lock.\n\n"
      "Examples:\n"
      "  clawback check\n"
      "  clawback check --read-data\n"
      "  clawback check --read-data-subset 1/7    # a seventh of the packs, e.g. one per day");
  check->callback([&cli, opt] { cli.status = RunCheck(cli, *opt); });
}

CLAWBACK_REGISTER_COMMAND(130, Register);

}  // namespace
}  // namespace clawback::cli
