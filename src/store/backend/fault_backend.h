// FaultBackend: a ForwardingBackend that injects failures, for tests of everything that
// sits on a Backend (repository, archiver, locks, retry, crash recovery).
//
// Faults, each armed by a method and combinable:
//   - FailNext(op, status, n): the next n calls of `op` (or of every op with Op::kAny)
//     return `status` without reaching the inner backend.
//   - FailEvery(op, status, k): every k-th call of `op` fails (k=1: all of them).
//   - PartialWriteNext(bytes): the next Save stores only the first `bytes` bytes under
//     the final name (a torn, non-atomic write) and reports IOError.
//   - CrashAfter(n): the first n operations run normally; from then on every call fails
//     with Unavailable("crashed") and nothing reaches the inner backend, like a process
//     that died mid-run. Reset with Recover().
//   - CorruptLoads(true): every Load flips one bit of what it returns.
// Counters record how many calls of each op arrived (including failed ones).
//
// Thread-safety: safe to call from many threads at once (one mutex for the fault state;
// the inner backend is called without it).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include "store/backend/backend.h"

namespace clawback::store {

class FaultBackend : public ForwardingBackend {
 public:
  enum class Op { kCreate, kExists, kSave, kLoad, kStat, kRemove, kList, kAny };

  explicit FaultBackend(Backend* inner) : ForwardingBackend(inner) {}
  explicit FaultBackend(BackendPtr inner)
      : ForwardingBackend(inner.get()), owned_(std::move(inner)) {}

  void FailNext(Op op, Status status, int count = 1);
  void FailEvery(Op op, Status status, int every);
  void PartialWriteNext(int64_t bytes);
  void CrashAfter(int64_t operations);
  void Recover();
  void CorruptLoads(bool on);
  // Disarms every fault (counters stay).
  void Clear();

  bool crashed() const;
  // Calls of `op` so far (kAny: all calls).
  int64_t Calls(Op op) const;

  // Backend
  Status Create() override;
  Result<bool> Exists() override;
  Status Save(FileType t, const std::string& name, std::string_view data) override;
  Result<std::string> Load(FileType t, const std::string& name, int64_t offset = 0,
                           int64_t length = 0) override;
  Result<FileInfo> Stat(FileType t, const std::string& name) override;
  Status Remove(FileType t, const std::string& name) override;
  Result<std::vector<FileInfo>> List(FileType t) override;

 private:
  static constexpr size_t kOps = static_cast<size_t>(Op::kAny) + 1;
  struct Rule {
    Status status;
    int remaining = 0;  // FailNext
    int every = 0;      // FailEvery
    int64_t seen = 0;
  };
  // Counts the call and returns the injected failure, if any.
  Status Enter(Op op);

  BackendPtr owned_;
  mutable std::mutex mu_;
  std::array<std::optional<Rule>, kOps> rules_;  // GUARDED_BY(mu_)
  std::array<int64_t, kOps> calls_{};            // GUARDED_BY(mu_)
  int64_t crash_after_ = -1;                     // GUARDED_BY(mu_)
  bool crashed_ = false;                         // GUARDED_BY(mu_)
  int64_t partial_write_ = -1;                   // GUARDED_BY(mu_)
  bool corrupt_loads_ = false;                   // GUARDED_BY(mu_)
};

}  // namespace clawback::store
