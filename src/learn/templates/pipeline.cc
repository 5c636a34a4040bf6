#include "learn/templates/pipeline.h"

#include <unordered_set>

namespace clawback::learn {

std::vector<uint64_t> TemplatePipeline::AddBatch(std::span<const std::string_view> lines,
                                                 const GroupOptions& options) {
  std::vector<uint64_t> ids(lines.size(), 0);
  std::vector<uint32_t> slot(lines.size(), UINT32_MAX);  // line -> its row in `batch`
  // Masked tokens are copied into one arena; views are made once it stops growing.
  std::string arena;
  std::vector<std::pair<size_t, uint32_t>> spans;
  std::vector<uint32_t> starts = {0};
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view content;
    if (!Content(lines[i], &content)) continue;
    masker_.Mask(content, &scratch_);
    for (std::string_view t : scratch_.tokens) {
      spans.emplace_back(arena.size(), static_cast<uint32_t>(t.size()));
      arena.append(t);
    }
    slot[i] = static_cast<uint32_t>(starts.size() - 1);
    starts.push_back(static_cast<uint32_t>(spans.size()));
  }
  TokenLines batch;
  batch.starts = std::move(starts);
  batch.tokens.reserve(spans.size());
  std::string_view view(arena);
  for (auto [off, len] : spans) batch.tokens.push_back(view.substr(off, len));

  Grouping g = GroupByFrequency(batch, options);
  // Groups with an exact template first, then the rest by similarity; a template known
  // before the batch takes at most one group, so the batch's grouping stands (a template
  // of another log in the same state file cannot merge two of its groups).
  const uint64_t first = miner_.next_id();
  std::vector<uint64_t> group_id(g.templates.size(), 0);
  std::unordered_set<uint64_t> taken;
  std::vector<std::string_view> tokens;
  for (size_t k = 0; k < g.templates.size(); ++k) {
    tokens.assign(g.templates[k].begin(), g.templates[k].end());
    if (auto id = miner_.FindExact(tokens); id && !taken.count(*id)) {
      group_id[k] = miner_.AddGroup(tokens, g.sizes[k], first);
      taken.insert(group_id[k]);
    }
  }
  for (size_t k = 0; k < g.templates.size(); ++k) {
    if (group_id[k]) continue;
    tokens.assign(g.templates[k].begin(), g.templates[k].end());
    group_id[k] = miner_.AddGroup(tokens, g.sizes[k], first, &taken);
    taken.insert(group_id[k]);
  }
  for (size_t i = 0; i < lines.size(); ++i)
    if (slot[i] != UINT32_MAX) ids[i] = group_id[g.group_of_line[slot[i]]];
  return ids;
}

}  // namespace clawback::learn
