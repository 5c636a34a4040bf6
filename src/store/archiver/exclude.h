// Exclusion rules for `clawback snapshot`: --exclude patterns and .clawbackignore files.
//
// Pattern language (close to restic's --exclude and to .gitignore):
//   - a path is matched component by component; `*`, `?` and `[...]` work inside one
//     component (fnmatch), `**` matches any number of components (also none);
//   - a pattern starting with `/` is anchored: it must match from the first component of
//     the absolute path (for --exclude) or of the path below the .clawbackignore's folder;
//   - any other pattern may match at any depth ("*.tmp", "node_modules", "build/out");
//   - a pattern ending in `/` matches only directories;
//   - a pattern starting with `!` re-includes what an earlier pattern excluded (last
//     matching pattern wins, as in .gitignore);
//   - in .clawbackignore files, empty lines and lines starting with `#` are ignored.
// An excluded directory is skipped with everything below it.
//
// Thread-safety: an ExcludeSet is immutable after construction and safe to share.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace clawback::store {

class ExcludeSet {
 public:
  ExcludeSet() = default;

  // Adds one pattern (InvalidArgument for an empty one).
  Status Add(std::string_view pattern);
  // Adds the lines of a .clawbackignore file.
  Status AddIgnoreFileText(std::string_view text);

  bool empty() const { return rules_.empty(); }

  // Whether `rel_path` ("a/b/c", no leading slash; for --exclude the absolute path without
  // its leading '/') is excluded. `is_dir` tells whether it names a directory.
  bool Excluded(std::string_view rel_path, bool is_dir) const;

  // The patterns as given (for the snapshot's "excludes" field).
  const std::vector<std::string>& patterns() const { return patterns_; }

 private:
  struct Rule {
    std::vector<std::string> parts;  // components; "**" is a wildcard component
    bool anchored = false;
    bool dir_only = false;
    bool negate = false;
  };
  static bool MatchParts(const std::vector<std::string>& pat, size_t pi,
                         const std::vector<std::string_view>& path, size_t si);
  std::vector<Rule> rules_;
  std::vector<std::string> patterns_;
};

// The name of the per-directory ignore file.
inline constexpr std::string_view kIgnoreFileName = ".clawbackignore";

}  // namespace clawback::store
