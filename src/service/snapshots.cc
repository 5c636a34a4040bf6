#include "service/snapshots.h"

#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <thread>

#include "store/archiver/snapshot_service.h"

namespace clawback::service {

Status ValidateTag(const std::string& tag) {
  if (tag.empty()) return InvalidArgument("empty tag");
  if (tag.find(',') != std::string::npos) {
    return InvalidArgument("tag \"" + tag + "\" contains a comma (restic splits tags at commas)");
  }
  return Status::Ok();
}

Result<store::ArchiveOptions> MakeArchiveOptions(const record::SnapshotRequest& req) {
  store::ArchiveOptions a;
  a.paths = req.paths;
  for (const auto& t : req.tags) RETURN_IF_ERROR(ValidateTag(t));
  a.tags = req.tags;
  if (req.conversation) a.tags.push_back("conversation=" + req.conversation->ToString());
  if (!req.reason.empty()) {
    RETURN_IF_ERROR(ValidateTag("reason=" + req.reason));
    a.tags.push_back("reason=" + req.reason);
  }
  a.hostname = req.host;
  for (const auto& e : req.excludes) RETURN_IF_ERROR(a.excludes.Add(e));
  a.no_parent = req.force;
  return a;
}

nlohmann::json ArchiveSummaryJson(const store::ArchiveSummary& s) {
  return {{"message_type", "summary"},
          {"snapshot_id", s.snapshot_id.Hex()},
          {"short_id", s.snapshot_id.ShortHex()},
          {"parent", s.snapshot.parent ? s.snapshot.parent->Hex() : ""},
          {"paths", s.snapshot.paths},
          {"tags", s.snapshot.tags},
          {"files_new", s.files_new},
          {"files_changed", s.files_changed},
          {"files_unmodified", s.files_unmodified},
          {"dirs_new", s.dirs_new},
          {"dirs_changed", s.dirs_changed},
          {"dirs_unmodified", s.dirs_unmodified},
          {"data_blobs", s.data_blobs},
          {"tree_blobs", s.tree_blobs},
          {"data_added", s.data_added},
          {"data_added_packed", s.data_added_stored},
          {"total_files_processed", s.total_files},
          {"total_bytes_processed", s.total_bytes},
          {"total_duration", s.seconds},
          {"warnings", s.warnings}};
}

ledger::SnapshotRecord SnapshotRecordFor(const std::string& repository_url,
                                         const store::ArchiveSummary& s,
                                         const std::optional<Uuid>& conversation,
                                         const std::string& reason) {
  ledger::SnapshotRecord rec;
  rec.snapshot_id = s.snapshot_id.Hex();
  rec.conversation_id = conversation;
  rec.repository = repository_url;
  rec.reason = reason.empty() ? "manual" : reason;
  rec.paths = s.snapshot.paths;
  rec.tags = s.snapshot.tags;
  rec.time_ms = s.snapshot.time.unix_seconds * 1000 + s.snapshot.time.nanos / 1'000'000;
  rec.stats = {{"files_new", s.files_new},
               {"files_changed", s.files_changed},
               {"files_unmodified", s.files_unmodified},
               {"data_added", s.data_added},
               {"data_added_stored", s.data_added_stored},
               {"total_files", s.total_files},
               {"total_bytes", s.total_bytes},
               {"seconds", s.seconds}};
  return rec;
}

std::string CanonicalRepoUrl(const std::string& url) {
  if (url.rfind("s3:", 0) == 0) return url;
  std::string path = url.rfind("local:", 0) == 0 ? url.substr(6) : url;
  auto abs = store::AbsolutePath(path);
  return abs.ok() ? *abs : url;
}

record::SnapshotFn OpenSnapshots(SnapshotSource src) {
  using Service = std::shared_ptr<store::SnapshotService>;
  // The opening thread, joined with the last copy of the SnapshotFn. (It was detached: a
  // server stopped during the key derivation returned from main while the thread still
  // ran, so exit's cleanup — static destructors, OpenSSL's atexit handler — ran under it.)
  // A repository that takes longer than 5 s more to open (an S3 endpoint that does not
  // answer, retried with backoff) does not hold up the shutdown: that thread is left to
  // the process's exit.
  struct Opener {
    std::thread thread;
    std::shared_future<Result<Service>> opened;
    ~Opener() {
      if (!thread.joinable()) return;
      if (opened.wait_for(std::chrono::seconds(5)) == std::future_status::ready) {
        thread.join();
      } else {
        std::fprintf(stderr, "clawback: stopping without waiting for the repository to open\n");
        thread.detach();
      }
    }
  };
  auto opener = std::make_shared<Opener>();
  const Result<std::string>& url = src.url;
  std::string source = src.password_source;
  Result<std::string> password = url.ok() ? src.password : Result<std::string>(url.status());
  std::shared_future<Result<Service>>& opened = opener->opened;
  if (!password.ok()) {
    std::promise<Result<Service>> p;
    p.set_value(password.status().WithContext("snapshots"));
    opened = p.get_future().share();
  } else {
    std::packaged_task<Result<Service>()> task([u = *url, pw = *password, source]() -> Result<Service> {
      auto svc = store::SnapshotService::Open(u, pw);
      if (!svc.ok() && svc.status().code() == StatusCode::kWrongPassword) {
        svc = WrongPassword("wrong password for the repository at " + u +
                            ": no key file opens with the password from " + source);
      }
      if (!svc.ok()) {
        std::fprintf(stderr, "clawback: snapshots: cannot open the repository %s: %s\n", u.c_str(),
                     svc.status().ToString().c_str());
        return svc.status().WithContext("repository " + u);
      }
      return Service(std::move(*svc));
    });
    opened = task.get_future().share();
    opener->thread = std::thread(std::move(task));
  }
  std::vector<std::string> managed = src.managed_paths;
  return [opener, managed](const record::SnapshotRequest& in) -> Result<record::SnapshotOutcome> {
    record::SnapshotRequest req = in;
    if (req.paths.empty()) req.paths = managed;
    if (req.paths.empty()) {
      return InvalidArgument("no paths to snapshot: give paths or set [repository] managed_paths in the server's config");
    }
    ASSIGN_OR_RETURN(store::ArchiveOptions a, MakeArchiveOptions(req));
    const Result<Service>& svc = opener->opened.get();
    if (!svc.ok()) return svc.status();
    if (!req.repository.empty() && CanonicalRepoUrl(req.repository) != CanonicalRepoUrl((*svc)->url())) {
      return InvalidArgument("this server snapshots into " + (*svc)->url() + ", not " + req.repository +
                             " (drop --repo, or run without --server)");
    }
    if (!req.parent.empty()) return InvalidArgument("--parent is not supported through --server");
    ASSIGN_OR_RETURN(store::ArchiveSummary s, (*svc)->Take(std::move(a)));
    record::SnapshotOutcome out;
    out.record = SnapshotRecordFor((*svc)->url(), s, req.conversation, req.reason);
    out.summary = ArchiveSummaryJson(s);
    return out;
  };
}

}  // namespace clawback::service
