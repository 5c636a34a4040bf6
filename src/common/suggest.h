// "Did you mean …?" for names a person typed: config keys, commands, hooks.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace clawback {

// Levenshtein distance (insertions, deletions, substitutions; each costs 1), with an
// adjacent transposition also costing 1 ("ulr" is one edit from "url").
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word`, when it is close enough to be a likely typo: at most
// max(1, |word| / 3) edits, or a candidate that starts with `word` (an abbreviation).
// Empty when none is. Ties go to the earlier candidate.
std::string NearestName(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean X?)" for NearestName, or "" when there is none.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace clawback
