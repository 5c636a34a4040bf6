#include "cli/init_repository.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/uuid.h"

namespace clawback::cli {

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
    report->next_steps.push_back("Back up " + report->password_file +
                                 " somewhere safe: without it the snapshots cannot be read.");
  } else if ((st.st_mode & 077) != 0) {
    report->next_steps.push_back("chmod 600 " + report->password_file +
                                 " (the password file is readable by others)");
  }
  report->next_steps.push_back("clawback repo init   # create the snapshot repository at " +
                               report->url);
  return Status::Ok();
}

}  // namespace clawback::cli
