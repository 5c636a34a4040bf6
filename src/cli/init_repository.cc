#include "cli/init_repository.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "cli/cmd_repo_common.h"
#include "common/uuid.h"
#include "store/backend/backend.h"
#include "store/lock/lock_file.h"
#include "store/repository.h"

namespace clawback::cli {

namespace {

// Creates the restic-format repository at report->url unless one is there. A local
// repository that cannot be created fails `init`; a remote one (S3) that cannot be reached
// only leaves a next step, so `init` still sets up the data dir and the ledger.
Status CreateRepository(RepositoryInitReport* report) {
  bool remote = report->url.rfind("s3:", 0) == 0;
  auto fail = [&](const Status& st) -> Status {
    if (!remote) return st.WithContext("create the repository at " + report->url);
    report->next_steps.push_back("clawback repo init   # could not create " + report->url +
                                 " now: " + st.ToString());
    return Status::Ok();
  };
  auto password = ReadPasswordFile(report->password_file);
  if (!password.ok()) return fail(password.status());
  if (password->empty()) return fail(InvalidArgument(report->password_file + ": the password file is empty"));
  auto backend = store::OpenBackend(report->url);
  if (!backend.ok()) return fail(backend.status());
  auto exists = (*backend)->Exists();
  if (!exists.ok()) return fail(exists.status());
  if (*exists) {
    report->next_steps.push_back("Using the existing repository at " + report->url +
                                 " (it must open with " + report->password_file + ").");
    return Status::Ok();
  }
  store::InitOptions init;
  init.hostname = store::ThisHostname();
  init.username = store::LockInfo::ForThisProcess(false, store::Timestamp::Now()).username;
  auto repo = store::Repository::Init(backend->get(), *password, init);
  if (!repo.ok()) return fail(repo.status());
  report->repository_created = true;
  return Status::Ok();
}

}  // namespace

Status GeneratePasswordFile(const std::string& path) {
  uint8_t raw[32];
  RandomBytes(raw, sizeof raw);
  std::string text = HexEncode(raw, sizeof raw) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return AlreadyExists(path + " exists");
    return ErrnoStatus("create " + path, errno);
  }
  ssize_t n = ::write(fd, text.data(), text.size());
  int write_errno = errno;
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()) || !synced) {
    ::unlink(path.c_str());
    return ErrnoStatus("write " + path, n < 0 ? write_errno : EIO);
  }
  return Status::Ok();
}

Status InitRepositoryForDataDir(const Config& config, RepositoryInitReport* report) {
  report->url = config.RepositoryUrl();
  report->password_file = config.RepositoryPasswordFile();
  struct stat st;
  if (::stat(report->password_file.c_str(), &st) != 0) {
    if (errno != ENOENT) return ErrnoStatus("stat " + report->password_file, errno);
    RETURN_IF_ERROR(GeneratePasswordFile(report->password_file)
                        .WithContext("generate the repository password file"));
    report->password_generated = true;
  } else if ((st.st_mode & 077) != 0) {
    report->next_steps.push_back("chmod 600 " + report->password_file +
                                 " (the password file is readable by others)");
  }
  return CreateRepository(report);
}

}  // namespace clawback::cli
