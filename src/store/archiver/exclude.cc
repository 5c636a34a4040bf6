#include "store/archiver/exclude.h"

#include <fnmatch.h>

namespace clawback::store {
namespace {

std::vector<std::string_view> SplitPath(std::string_view p) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    if (j > i) out.push_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace

Status ExcludeSet::Add(std::string_view pattern) {
  std::string_view p = pattern;
  Rule r;
  if (!p.empty() && p[0] == '!') {
    r.negate = true;
    p.remove_prefix(1);
  }
  if (!p.empty() && p.back() == '/') {
    r.dir_only = true;
    while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  }
  if (!p.empty() && p[0] == '/') r.anchored = true;
  for (auto part : SplitPath(p)) r.parts.emplace_back(part);
  if (r.parts.empty()) {
    return InvalidArgument("empty exclude pattern \"" + std::string(pattern) + "\"");
  }
  // A pattern with an inner slash ("build/out") is relative to the root in .gitignore, but
  // restic matches it at any depth; we follow restic unless it starts with '/'.
  rules_.push_back(std::move(r));
  patterns_.emplace_back(pattern);
  return Status::Ok();
}

Status ExcludeSet::AddIgnoreFileText(std::string_view text) {
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view line = text.substr(i, j - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (!line.empty() && line[0] != '#') RETURN_IF_ERROR(Add(line));
    i = j + 1;
  }
  return Status::Ok();
}

bool ExcludeSet::MatchParts(const std::vector<std::string>& pat, size_t pi,
                            const std::vector<std::string_view>& path, size_t si) {
  while (pi < pat.size()) {
    if (pat[pi] == "**") {
      for (size_t k = si; k <= path.size(); ++k) {
        if (MatchParts(pat, pi + 1, path, k)) return true;
      }
      return false;
    }
    if (si >= path.size()) return false;
    std::string comp(path[si]);
    if (fnmatch(pat[pi].c_str(), comp.c_str(), 0) != 0) return false;
    ++pi;
    ++si;
  }
  return si == path.size();
}

bool ExcludeSet::Excluded(std::string_view rel_path, bool is_dir) const {
  if (rules_.empty()) return false;
  const auto path = SplitPath(rel_path);
  bool excluded = false;
  for (const auto& r : rules_) {
    if (r.dir_only && !is_dir) continue;
    bool m = false;
    if (r.anchored) {
      m = MatchParts(r.parts, 0, path, 0);
    } else {
      for (size_t start = 0; start < path.size() && !m; ++start) {
        m = MatchParts(r.parts, 0, path, start);
      }
    }
    if (m) excluded = !r.negate;
  }
  return excluded;
}

}  // namespace clawback::store
