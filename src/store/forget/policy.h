// Forget policy: which snapshots a `forget` keeps, restic-compatible.
//
// The rules are those of restic 0.14's `forget` (docs/format/restic-compat.md):
//   - snapshots are first grouped (default: by host and paths; optionally also by tags);
//   - inside a group they are walked newest first;
//   - keep-last N keeps the N newest;
//   - keep-hourly/daily/weekly/monthly/yearly N keep the newest snapshot of each of the N
//     most recent hours/days/ISO weeks/months/years that have a snapshot, counted in the
//     snapshot's own wall-clock time (the offset stored in its timestamp);
//   - keep-within D keeps every snapshot newer than (newest snapshot of the group - D);
//     D is "1y2m3d4h" with calendar arithmetic for years, months and days (as Go's AddDate);
//   - keep-tag keeps every snapshot carrying all tags of at least one listed tag set
//     ("a,b" means a and b); tagged snapshots do not use up any count;
//   - a count of -1 means "unlimited".
// A snapshot is kept when any rule keeps it; the reasons are reported.
//
// Pure logic, no I/O. Thread-safety: free functions over values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace clawback::store::forget {

// What the policy looks at in a snapshot.
struct SnapshotInfo {
  std::string id;           // hex id (only carried through)
  int64_t unix_nanos = 0;   // the snapshot's time
  int32_t utc_offset_seconds = 0;  // the offset written in its timestamp (buckets use wall time)
  std::string hostname;
  std::vector<std::string> paths;
  std::vector<std::string> tags;
};

// A calendar duration, "1y2m3d4h" (any subset, in that order or any order, each unit once).
struct Duration {
  int years = 0;
  int months = 0;
  int days = 0;
  int hours = 0;
  bool Zero() const { return years == 0 && months == 0 && days == 0 && hours == 0; }
  std::string ToString() const;
};
Result<Duration> ParseDuration(std::string_view text);

struct Policy {
  int last = 0;  // 0: rule off; -1: unlimited
  int hourly = 0;
  int daily = 0;
  int weekly = 0;
  int monthly = 0;
  int yearly = 0;
  Duration within;
  // Each entry is one --keep-tag value split at commas: all of its tags must be present.
  std::vector<std::vector<std::string>> tags;

  // True when no rule is set: forget refuses to run then (it would remove everything).
  bool Empty() const;
  // Adds one --keep-tag value ("a,b").
  void AddKeepTag(std::string_view value);
};

struct GroupBy {
  bool host = true;
  bool paths = true;
  bool tags = false;
};
// Parses "host,paths", "host", "tags", "" (no grouping).
Result<GroupBy> ParseGroupBy(std::string_view text);

struct Decision {
  SnapshotInfo snapshot;
  bool keep = false;
  std::vector<std::string> reasons;  // "last snapshot", "daily snapshot", "within 1d", "tags"
};

struct GroupResult {
  // The grouping values (only the fields GroupBy selects are filled).
  std::string hostname;
  std::vector<std::string> paths;  // sorted
  std::vector<std::string> tags;   // sorted
  // Newest first.
  std::vector<Decision> decisions;

  std::vector<SnapshotInfo> Kept() const;
  std::vector<SnapshotInfo> Removed() const;
};

// Applies `policy` to one group of snapshots (any order in; newest first out).
std::vector<Decision> ApplyPolicy(std::vector<SnapshotInfo> snapshots, const Policy& policy);

// Groups `snapshots` and applies `policy` to every group. Groups come out in a stable
// order (by host, then paths, then tags).
std::vector<GroupResult> ApplyPolicyGrouped(const std::vector<SnapshotInfo>& snapshots,
                                            const Policy& policy, const GroupBy& group_by);

// Wall-clock calendar fields of a time at an offset (exposed for tests).
struct CivilTime {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
  int64_t nanos = 0;
};
CivilTime ToCivil(int64_t unix_nanos, int32_t utc_offset_seconds);
// ISO 8601 week-numbering year and week (1..53), as Go's Time.ISOWeek.
void IsoWeek(const CivilTime& t, int* iso_year, int* iso_week);

}  // namespace clawback::store::forget
