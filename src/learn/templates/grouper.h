// Frequency grouping of a batch of masked lines, after Brain (Yu, He, Chen, Wu, "Brain: Log
// Parsing with Bidirectional Parallel Tree", IEEE TSC 2023): the words a logging statement
// prints are the same in every line it prints, so across a batch they share one count.
//
// 1. Lines are bucketed by token count, and every (position, token) pair of a bucket is
//    counted.
// 2. Initial groups: in each line, the tokens that share one count and are the most numerous
//    such set (ties go to the higher count) are taken as the line's longest common pattern;
//    lines with the same pattern (the same tokens at the same positions) form a group.
//    Tokens masked as variables (`<*>`) take no part.
// 3. Each group is refined top-down (Brain's bidirectional tree, both directions alike): a
//    column where the group's lines disagree is a split point when its values are few
//    words, since a few different words in one place of otherwise equal lines are most
//    often different messages (`stored as bytes` / `stored as values`). Few means fewer than
//    `split_below` distinct values and at most half the group's lines. Words count as data
//    instead, and the column as a variable, when most of its values occur elsewhere in the
//    batch at least half as often as here (inside other tokens too: a user name that is also
//    `user=<name>` in another message) -- unless the column varies together with another
//    such column (one determines the other, as a state machine's `from NEW to SCHEDULED`),
//    which is wording again. Columns of values that are not words (masked values, paths,
//    dotted names), of many values, or of values that differ only in digits (`ccr0`,
//    `ccr3`) are variables. The column with the fewest values is split first, and each part
//    is refined again.
// 4. Each final group's template: its constant columns as they are, every other column the
//    generalisation of its values (GeneralizeToken: `user=root` and `user=admin` give
//    `user=<*>`).
//
// Everything is deterministic: the same batch gives the same groups in the same order.
// Thread-safety: a pure function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace clawback::learn {

// A batch of masked lines: line i is tokens[starts[i] .. starts[i + 1]) (fewer than 2^32
// tokens in all; the CLI caps a batch at 50,000,000 lines).
struct TokenLines {
  std::vector<std::string_view> tokens;
  std::vector<uint32_t> starts = {0};

  size_t size() const { return starts.size() - 1; }
  void EndLine() { starts.push_back(static_cast<uint32_t>(tokens.size())); }
};

struct GroupOptions {
  // A varying column of words can split its group while it has fewer distinct values.
  int split_below = 12;
};

struct Grouping {
  std::vector<uint32_t> group_of_line;              // per line, an index into templates
  std::vector<std::vector<std::string>> templates;  // per group, its template's tokens
  std::vector<uint64_t> sizes;                      // per group, its number of lines
};

Grouping GroupByFrequency(const TokenLines& lines, const GroupOptions& options = {});

}  // namespace clawback::learn
