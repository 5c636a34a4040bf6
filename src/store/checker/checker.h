// Checker: `clawback check` — verifies a repository as restic 0.14's check does
// (restic format spec §15.1).
//
// Structure (always): every snapshot decodes; every index file decodes; every indexed pack
// exists with the size its index entries imply; every tree reachable from a snapshot
// decodes, and every blob it references (subtrees and file contents) is in the index; no
// dir without a subtree, no empty names, no unknown node types. Packs that no index lists
// are only a hint ("additional files", what a crash leaves behind; prune removes them).
//
// Data (--read-data, or a subset "N%" / "n/m" of the packs): every byte of each selected
// pack is read; its SHA-256 must equal its name, its header must decrypt and match the index
// entry for entry, and every blob must authenticate, decompress and hash to its id. A pack
// is streamed in segments of ~4 MiB along its indexed blobs (one reader per core, buffers
// reused), so memory does not hold whole packs; a pack that fails is read again whole to
// word the error. A damaged pack is reported with the snapshots that reference blobs
// stored in it.
//
// Thread-safety: Run() once; Progress() from any thread.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/repository.h"

namespace clawback::store {

struct ReadDataSubset {
  enum class Kind { kAll, kPercent, kBucket } kind = Kind::kAll;
  double percent = 100;
  uint32_t n = 1, m = 1;  // bucket n of m (1-based): packs whose first id byte % m == n-1
};
// "25%", "2.5%", "1/5"; InvalidArgument otherwise.
Result<ReadDataSubset> ParseReadDataSubset(const std::string& text);

struct CheckOptions {
  bool read_data = false;
  ReadDataSubset subset;
  int threads = 0;  // 0: number of cores
};

struct DamagedPack {
  Id pack;
  std::string error;
  std::vector<Id> snapshots;  // snapshots referencing blobs in the pack
};

struct CheckReport {
  std::vector<std::string> errors;
  std::vector<std::string> hints;
  std::vector<DamagedPack> damaged_packs;
  uint64_t snapshots = 0, trees = 0, packs = 0, packs_read = 0, bytes_read = 0;
  uint64_t unreferenced_packs = 0;
  bool ok() const { return errors.empty(); }
};

struct CheckProgress {
  uint64_t trees = 0;
  uint64_t packs_read = 0, packs_to_read = 0;
  uint64_t bytes_read = 0, bytes_to_read = 0;
};

class Checker {
 public:
  Checker(Repository* repo, CheckOptions options);
  ~Checker();
  // Fails only when the check itself cannot run (e.g. the backend cannot be listed);
  // problems found are in the report.
  Result<CheckReport> Run();
  CheckProgress Progress() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace clawback::store
