// FileTypeDir, name helpers, and OpenBackend: the one place a repository URL becomes a
// backend.
#include "store/backend/backend.h"

#include <cstdlib>
#include <string>
#include <utility>

#include "store/backend/backend_util.h"
#include "store/backend/local_backend.h"
#include "store/backend/retry_backend.h"
#include "store/backend/s3_backend.h"

namespace clawback::store {

namespace {

// Backend::Begin's default: the whole file in memory, one Save at Commit.
class BufferedPendingFile : public PendingFile {
 public:
  BufferedPendingFile(Backend* backend, FileType type, size_t size_hint) : backend_(backend), type_(type) {
    data_.reserve(size_hint);
  }
  Status Append(std::string_view data) override {
    data_.append(data);
    return Status::Ok();
  }
  Status Commit(const std::string& name) override { return backend_->Save(type_, name, data_); }

 private:
  Backend* backend_;
  FileType type_;
  std::string data_;
};

}  // namespace

Result<std::unique_ptr<PendingFile>> Backend::Begin(FileType t, size_t size_hint) {
  return std::unique_ptr<PendingFile>(new BufferedPendingFile(this, t, size_hint));
}

std::string_view FileTypeDir(FileType t) {
  switch (t) {
    case FileType::kConfig:
      return "config";
    case FileType::kKey:
      return "keys";
    case FileType::kLock:
      return "locks";
    case FileType::kSnapshot:
      return "snapshots";
    case FileType::kIndex:
      return "index";
    case FileType::kPack:
      return "data";
  }
  return "unknown";
}

std::string_view FileTypeName(FileType t) {
  switch (t) {
    case FileType::kConfig:
      return "config";
    case FileType::kKey:
      return "key";
    case FileType::kLock:
      return "lock";
    case FileType::kSnapshot:
      return "snapshot";
    case FileType::kIndex:
      return "index";
    case FileType::kPack:
      return "pack";
  }
  return "unknown";
}

bool IsHexId(std::string_view name) {
  if (name.size() != 64) return false;
  for (char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status ValidateName(FileType t, std::string_view name) {
  if (t == FileType::kConfig) {
    if (name.empty() || name == "config") return Status::Ok();
    return InvalidArgument("the config file is always named \"config\", not \"" +
                           std::string(name) + "\"");
  }
  if (!IsHexId(name)) {
    return InvalidArgument(std::string(FileTypeName(t)) + " file name \"" + std::string(name) +
                           "\" is not a 64-digit lowercase hex ID");
  }
  return Status::Ok();
}

std::string ObjectPath(FileType t, std::string_view name) {
  if (t == FileType::kConfig) return "config";
  std::string path(FileTypeDir(t));
  path += '/';
  if (t == FileType::kPack) {
    path += name.substr(0, 2);
    path += '/';
  }
  path += name;
  return path;
}

Result<BackendPtr> OpenBackend(const std::string& url, const BackendOptions& options) {
  if (url.empty()) return InvalidArgument("empty repository URL");
  std::string_view u(url);
  if (u.starts_with("s3:")) {
    S3Options s3;
    s3.access_key = options.s3_access_key;
    s3.secret_key = options.s3_secret_key;
    s3.region = options.s3_region.empty() ? "us-east-1" : options.s3_region;
    s3.ca_file = options.s3_ca_file;
    s3.virtual_host = options.s3_virtual_host;
    ASSIGN_OR_RETURN(BackendPtr s3_backend, S3Backend::Open(url, std::move(s3)));
    return BackendPtr(std::make_unique<RetryBackend>(std::move(s3_backend)));
  }
  if (u.starts_with("local:")) {
    u.remove_prefix(6);
    if (u.empty()) return InvalidArgument("\"local:\" needs a path: local:/srv/repo");
    return BackendPtr(std::make_unique<LocalBackend>(std::string(u)));
  }
  // Other restic schemes ("sftp:", "rest:", "b2:", ...) are not supported; refuse them
  // rather than creating a local directory called "sftp:host".
  for (std::string_view scheme : {"sftp:", "rest:", "b2:", "azure:", "gs:", "swift:", "rclone:"}) {
    if (u.starts_with(scheme)) {
      return InvalidArgument(
          "unsupported repository backend \"" + std::string(scheme.substr(0, scheme.size() - 1)) +
          "\" in \"" + url +
          "\"; use a path, local:PATH or s3:https://HOST[:PORT]/BUCKET[/PREFIX]");
    }
  }
  return BackendPtr(std::make_unique<LocalBackend>(url));
}

}  // namespace clawback::store
