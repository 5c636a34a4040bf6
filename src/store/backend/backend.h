// Backend: the only storage seam of the repository (restic's `backend.Backend`).
//
// A backend stores whole files by (type, name) — the repository layout of
// docs/format/restic-repository-format.md section 1: "config" at the top, keys/, locks/,
// snapshots/, index/, and data/<first two hex digits>/<id>. It knows nothing of
// encryption or formats. Retries, fault injection, rate limits and metrics are wrappers
// (ForwardingBackend) around a backend, never inside one.
//
// Contract, checked by the conformance suite (backend_conformance_test.cc) for every
// implementation:
//   - Save is atomic: a reader sees the whole file or none of it, also after a crash.
//   - Save of an existing name fails with AlreadyExists (files are immutable), except
//     FileType::kLock, which may be refreshed by Remove + Save.
//   - Load of a missing file is NotFound; Load with length 0 reads to the end.
//   - List returns every file of a type, in no particular order.
//   - Names: "config" (or "") for FileType::kConfig, a 64-digit lowercase hex ID for every
//     other type; any other name is InvalidArgument (so no name can escape the
//     repository), and List skips stray files whose names are not IDs (as restic does).
//   - Stat/Remove of a missing file is NotFound. Load at offset == size with length 0
//     returns "" (a range starting past the end is Corruption).
//   - Transient failures (S3 5xx/429, timeouts, dropped connections) are Unavailable;
//     RetryBackend retries exactly those.
//
// Implementations: MemBackend (mem_backend.h), LocalBackend (local_backend.h), S3Backend
// (s3_backend.h); wrappers RetryBackend (retry_backend.h), FaultBackend (fault_backend.h).
// OpenBackend wraps S3 in a RetryBackend; tests/support/s3rver-start runs a real S3 server.
//
// Thread-safety: every implementation is safe to call from many threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace clawback::store {

enum class FileType { kConfig, kKey, kLock, kSnapshot, kIndex, kPack };

// "config", "keys", "locks", "snapshots", "index", "data".
std::string_view FileTypeDir(FileType t);

struct FileInfo {
  std::string name;  // for kConfig: "config"; otherwise the 64-hex-digit id
  int64_t size = 0;
};

// A file written piece by piece whose name is known only at the end (a pack is named by
// the SHA-256 of its bytes): Append the bytes in order, then Commit under the final name,
// which follows Save's rules (AlreadyExists, atomic and durable once it returns OK). Nothing
// is visible under any name before Commit succeeds; destroying an uncommitted file
// discards it (after a crash, at most an invisible temporary remains).
// Thread-safety: one thread at a time (different threads one after another are fine).
class PendingFile {
 public:
  virtual ~PendingFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Commit(const std::string& name) = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Where the backend points, for messages ("/srv/repo", "s3:https://host/bucket").
  virtual std::string Location() const = 0;

  // Creates the directory structure (local) or checks the bucket (S3). Idempotent.
  virtual Status Create() = 0;
  // Whether the repository config file exists (the repository is initialised).
  virtual Result<bool> Exists() = 0;

  virtual Status Save(FileType t, const std::string& name, std::string_view data) = 0;
  // Reads [offset, offset+length); length 0 means to the end. A range past the end is
  // an error (Corruption: short read), never a silent short result.
  virtual Result<std::string> Load(FileType t, const std::string& name, int64_t offset = 0,
                                   int64_t length = 0) = 0;
  // Load into *out (replacing its contents), reusing its capacity: a reader of many large
  // files (check --read-data) keeps one buffer per thread instead of allocating 16 MiB per
  // pack, which glibc would keep resident. On error *out is unspecified. The default calls
  // Load, so wrappers that override Load (fault injection, retries) stay in the path.
  virtual Status LoadInto(FileType t, const std::string& name, int64_t offset, int64_t length,
                          std::string* out) {
    auto r = Load(t, name, offset, length);
    if (!r.ok()) return r.status();
    *out = std::move(*r);
    return Status::Ok();
  }
  virtual Result<FileInfo> Stat(FileType t, const std::string& name) = 0;
  virtual Status Remove(FileType t, const std::string& name) = 0;
  virtual Result<std::vector<FileInfo>> List(FileType t) = 0;

  // Starts a file of type t written piecewise (`size_hint`: the expected size, 0 if
  // unknown). The default collects the bytes in memory and calls Save at Commit, so
  // wrappers that override Save (faults, retries) stay in the path; LocalBackend streams
  // packs to a temporary file instead.
  virtual Result<std::unique_ptr<PendingFile>> Begin(FileType t, size_t size_hint = 0);

  // Deletes what interrupted writes left behind (a process killed between creating a
  // temporary file and renaming it) and returns how many files went. Only safe while no
  // other process writes the repository: call it under the exclusive lock (prune). Lock
  // files are never touched. The default has nothing to do (an S3 PUT lands whole or not).
  virtual Result<int64_t> RemoveTemporaries() { return int64_t{0}; }
};

using BackendPtr = std::unique_ptr<Backend>;

// Forwards every call to `inner`; subclass it and override one method to inject a fault
// or add a behaviour (retry, metrics, dry-run).
class ForwardingBackend : public Backend {
 public:
  explicit ForwardingBackend(Backend* inner) : inner_(inner) {}

  std::string Location() const override { return inner_->Location(); }
  Status Create() override { return inner_->Create(); }
  Result<bool> Exists() override { return inner_->Exists(); }
  Status Save(FileType t, const std::string& name, std::string_view data) override {
    return inner_->Save(t, name, data);
  }
  Result<std::string> Load(FileType t, const std::string& name, int64_t offset,
                           int64_t length) override {
    return inner_->Load(t, name, offset, length);
  }
  Result<FileInfo> Stat(FileType t, const std::string& name) override {
    return inner_->Stat(t, name);
  }
  Status Remove(FileType t, const std::string& name) override { return inner_->Remove(t, name); }
  Result<std::vector<FileInfo>> List(FileType t) override { return inner_->List(t); }
  Result<int64_t> RemoveTemporaries() override { return inner_->RemoveTemporaries(); }

 protected:
  Backend* inner_;
};

// Opens the backend for a repository URL: a path ("/srv/repo", "local:/srv/repo") or
// "s3:https://HOST[:PORT]/BUCKET[/PREFIX]" (also "s3:http://…" for tests). S3 credentials
// come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; `s3_ca_file` (or
// $CLAWBACK_S3_CA_FILE) names a CA bundle for TLS.
struct BackendOptions {
  std::string s3_access_key;
  std::string s3_secret_key;
  std::string s3_region = "us-east-1";
  std::string s3_ca_file;
  bool s3_virtual_host = false;  // virtual-host addressing instead of path-style
};
Result<BackendPtr> OpenBackend(const std::string& url, const BackendOptions& options = {});

}  // namespace clawback::store
