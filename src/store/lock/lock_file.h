// Lock files, compatible with restic 0.14 (restic format spec §13).
//
// A lock is an unpacked file in locks/ holding
//   {"time":"…","exclusive":false,"hostname":"vm","username":"root","pid":19608,"uid":1000,"gid":1000}
// (uid/gid omitted when 0). An exclusive lock conflicts with every other lock; a shared one
// only with exclusive locks. A lock is stale when its time is more than 30 minutes old, or
// when it was written on this host by a process that no longer exists. Stale locks still
// block (as in restic 0.14) until `unlock` removes them.
//
// This header is the pure part (encoding, conflict and staleness rules); repo_lock.h takes
// and refreshes locks in a repository. Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/encoding/go_json.h"

namespace clawback::store {

inline constexpr int64_t kLockStaleAfterSeconds = 30 * 60;
inline constexpr int64_t kLockRefreshEverySeconds = 5 * 60;

struct LockInfo {
  Timestamp time;
  bool exclusive = false;
  std::string hostname;
  std::string username;
  int64_t pid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;

  // Compact JSON in restic's field order.
  std::string ToJson() const;
  // Corruption for JSON that is not a lock object.
  static Result<LockInfo> Parse(std::string_view json);

  // A lock for this process: now, this host, user, pid, uid and gid.
  static LockInfo ForThisProcess(bool exclusive, const Timestamp& now);

  // "exclusive lock by root@vm (pid 19608), created 2026-11-27T01:45:42Z"
  std::string Describe() const;
};

// Whether a lock we want (`want_exclusive`) conflicts with an existing lock.
bool LockConflicts(bool want_exclusive, const LockInfo& existing);

// Whether a process exists on this host (kill(pid, 0) != ESRCH).
using ProcessAlive = std::function<bool(int64_t pid)>;
bool ProcessExists(int64_t pid);
std::string ThisHostname();

// restic's rule: older than 30 minutes at `now`, or on `this_host` with a dead pid.
bool LockIsStale(const LockInfo& lock, const Timestamp& now, const std::string& this_host,
                 const ProcessAlive& alive = ProcessExists);

}  // namespace clawback::store
