// `clawback repo init`, `clawback unlock`, `clawback cat`: creating a repository, removing
// stale locks, and printing raw repository objects (restic format v2, docs/format/).
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_repo_common.h"
#include "store/lock/lock_file.h"
#include "store/lock/repo_lock.h"

namespace clawback::cli {
namespace {

struct InitOptions {
  RepoFlags repo;
};

Status RunInit(Cli& cli, const InitOptions& opt) {
  ASSIGN_OR_RETURN(std::string url, ResolveRepoUrl(cli, opt.repo));
  ASSIGN_OR_RETURN(std::string password, ResolvePassword(cli, opt.repo));
  ASSIGN_OR_RETURN(auto backend, store::OpenBackend(url));
  store::InitOptions init;
  init.hostname = store::ThisHostname();
  init.username = store::LockInfo::ForThisProcess(false, store::Timestamp::Now()).username;
  auto repo = store::Repository::Init(backend.get(), password, init);
  if (!repo.ok()) {
    if (repo.status().code() == StatusCode::kAlreadyExists) {
      return AlreadyExists("a repository already exists at " + url);
    }
    return repo.status().WithContext("create repository at " + url);
  }
  if (cli.global.json) {
    PrintJson({{"message_type", "initialized"},
               {"id", (*repo)->config().id},
               {"repository", url}});
  } else {
    std::printf("created repository %s at %s\n", (*repo)->config().id.substr(0, 10).c_str(),
                url.c_str());
    std::printf(
        "Keep the password safe: without it nothing in this repository can be read again.\n");
  }
  return Status::Ok();
}

struct UnlockOptions {
  RepoFlags repo;
  bool all = false;
};

Status RunUnlock(Cli& cli, const UnlockOptions& opt) {
  ASSIGN_OR_RETURN(OpenedRepo o, OpenRepo(cli, opt.repo, false));
  ASSIGN_OR_RETURN(int removed, store::RemoveLocks(o.repo.get(), opt.all));
  if (cli.global.json) {
    PrintJson({{"removed", removed}});
  } else {
    std::printf("removed %d %s lock%s\n", removed, opt.all ? "" : "stale",
                removed == 1 ? "" : "s");
  }
  return Status::Ok();
}

struct CatOptions {
  RepoFlags repo;
  std::string what;
  std::string id;
};

Status RunCat(Cli& cli, const CatOptions& opt) {
  ASSIGN_OR_RETURN(OpenedRepo o, OpenRepo(cli, opt.repo, false));
  store::Repository* repo = o.repo.get();
  std::string out;
  if (opt.what == "config") {
    out = repo->config().ToJson();
  } else if (opt.what == "snapshot" || opt.what == "index" || opt.what == "lock") {
    if (opt.id.empty()) return InvalidArgument("cat " + opt.what + " needs an ID");
    store::Id id;
    if (opt.what == "snapshot") {
      ASSIGN_OR_RETURN(auto e, repo->FindSnapshot(opt.id));
      id = e.id;
    } else {
      auto type = opt.what == "index" ? store::FileType::kIndex : store::FileType::kLock;
      ASSIGN_OR_RETURN(id, repo->FindId(type, opt.id));
    }
    auto type = opt.what == "snapshot" ? store::FileType::kSnapshot
                : opt.what == "index"  ? store::FileType::kIndex
                                       : store::FileType::kLock;
    ASSIGN_OR_RETURN(out, repo->LoadUnpacked(type, id));
  } else if (opt.what == "key") {
    if (opt.id.empty()) return InvalidArgument("cat key needs an ID");
    ASSIGN_OR_RETURN(store::Id id, repo->FindId(store::FileType::kKey, opt.id));
    ASSIGN_OR_RETURN(out, repo->backend()->Load(store::FileType::kKey, id.Hex(), 0, 0));
  } else if (opt.what == "tree" || opt.what == "blob") {
    if (opt.id.empty()) return InvalidArgument("cat " + opt.what + " needs an ID");
    RETURN_IF_ERROR(repo->LoadIndex());
    ASSIGN_OR_RETURN(store::Id id, store::Id::Parse(opt.id));
    ASSIGN_OR_RETURN(out, repo->LoadBlob(opt.what == "tree" ? store::BlobType::kTree
                                                             : store::BlobType::kData,
                                         id));
  } else {
    return InvalidArgument("cat: unknown object \"" + opt.what +
                           "\"; use config, snapshot ID, index ID, key ID, lock ID, tree ID or "
                           "blob ID");
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (out.empty() || out.back() != '\n') std::fputc('\n', stdout);
  return Status::Ok();
}

void Register(CLI::App& app, Cli& cli) {
  auto* repo = app.add_subcommand("repo", "Manage the snapshot repository (restic format v2)");
  repo->require_subcommand(1);
  auto iopt = std::make_shared<InitOptions>();
  auto* init = repo->add_subcommand("init", "Create a new, empty repository");
  AddRepoFlags(init, &iopt->repo);
  init->footer(
      "The repository is restic-compatible: `restic -r URL` can list, check and restore it.\n"
      "The password comes from --password-file, $CLAWBACK_PASSWORD_FILE or $CLAWBACK_PASSWORD.\n\n"
      "Examples:\n"
      "  clawback repo init --repo /srv/backup --password-file ~/.clawback-pw\n"
      "  clawback repo init --repo s3:https://minio:9000/backups/host1");
  init->callback([&cli, iopt] { cli.status = RunInit(cli, *iopt); });

  auto uopt = std::make_shared<UnlockOptions>();
  auto* unlock = app.add_subcommand("unlock", "Remove stale repository locks");
  AddRepoFlags(unlock, &uopt->repo);
  unlock->add_flag("--remove-all", uopt->all, "Remove every lock, also those of live processes");
  unlock->footer(
      "A lock is stale when it is older than 30 minutes, or was written on this host by a\n"
      "process that no longer exists. Stale locks block other commands until removed.\n\n"
      "Example:\n  clawback unlock --repo /srv/backup");
  unlock->callback([&cli, uopt] { cli.status = RunUnlock(cli, *uopt); });

  auto copt = std::make_shared<CatOptions>();
  auto* cat = app.add_subcommand("cat", "Print a repository object as JSON (decrypted)");
  AddRepoFlags(cat, &copt->repo);
  cat->add_option("object", copt->what, "config, snapshot, index, key, lock, tree or blob")
      ->required();
  cat->add_option("id", copt->id, "The object's id or unique id prefix (snapshot: also latest)");
  cat->footer(
      "Examples:\n"
      "  clawback cat config\n"
      "  clawback cat snapshot latest\n"
      "  clawback cat index 3f2a");
  cat->callback([&cli, copt] { cli.status = RunCat(cli, *copt); });
}

CLAWBACK_REGISTER_COMMAND(100, Register);

}  // namespace
}  // namespace clawback::cli
