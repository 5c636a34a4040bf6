// Snapshot files (restic format spec §9): an unpacked file in snapshots/, named by its
// storage id, holding restic's snapshot JSON (fields in restic's order, empty ones omitted).
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/encoding/go_json.h"
#include "store/id.h"

namespace clawback::store {

struct Snapshot {
  Timestamp time;
  std::optional<Id> parent;
  Id tree;
  std::vector<std::string> paths;
  std::string hostname;
  std::string username;
  uint32_t uid = 0, gid = 0;
  std::vector<std::string> excludes;
  std::vector<std::string> tags;
  std::optional<Id> original;
  std::string program_version;  // newer restic; omitted when empty
  std::string summary;          // newer restic: compact JSON object kept as read; omitted when empty

  bool HasTag(std::string_view tag) const;
  // Compact JSON, no trailing newline (as restic writes it).
  std::string ToJson() const;
  // Ignores unknown fields; Corruption for malformed JSON, a missing or bad tree id, bad times.
  static Result<Snapshot> Parse(std::string_view json);
};

// A snapshot together with its storage id.
struct SnapshotEntry {
  Id id;
  Snapshot snapshot;
};

}  // namespace clawback::store
