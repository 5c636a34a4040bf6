#include "learn/templates/state.h"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace clawback::learn {
namespace {

Status MakeDirs(const std::string& dir) {
  if (dir.empty()) return Status::Ok();
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/') continue;
    std::string part = dir.substr(0, i);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
      return ErrnoStatus("mkdir " + part, errno);
  }
  return Status::Ok();
}

}  // namespace

std::string DefaultTemplateStatePath(const std::string& data_dir) {
  return data_dir + "/learn/templates.json";
}

Result<TemplateMiner> LoadTemplateState(const std::string& path, const MinerOptions& options) {
  RETURN_IF_ERROR(ValidateMinerOptions(options));
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return TemplateMiner(options);
    return ErrnoStatus("open " + path, errno);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corruption(path + ": template state is not valid JSON");
  auto miner = TemplateMiner::FromJson(j, options);
  if (!miner.ok()) return Corruption(path + ": " + miner.status().message());
  return miner;
}

Status SaveTemplateState(const std::string& path, const TemplateMiner& miner) {
  size_t slash = path.rfind('/');
  if (slash != std::string::npos) RETURN_IF_ERROR(MakeDirs(path.substr(0, slash)));
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::string text = miner.ToJson().dump(1) + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("create " + tmp, errno);
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return ErrnoStatus("write " + tmp, err);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus("sync " + tmp, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus("rename " + tmp + " to " + path, err);
  }
  return Status::Ok();
}

}  // namespace clawback::learn
