#include "learn/templates/grouper.h"

#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "learn/templates/masker.h"
#include "learn/templates/miner.h"

namespace clawback::learn {
namespace {

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// A word token without its outer punctuation: `[preauth]` -> `preauth`.
std::string_view Core(std::string_view t) {
  size_t b = 0, e = t.size();
  while (b < e && !IsWordChar(t[b])) ++b;
  while (e > b && !IsWordChar(t[e - 1])) --e;
  return t.substr(b, e - b);
}

uint64_t Mix(uint64_t x) {  // splitmix64's finaliser
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

class Grouper {
 public:
  Grouper(const TokenLines& in, const GroupOptions& o, Grouping* out) : in_(in), o_(o), out_(out) {}

  void Run() {
    const size_t n = in_.size();
    out_->group_of_line.assign(n, 0);
    // Buckets by token count, in order of first appearance.
    std::unordered_map<size_t, size_t> bucket_of_len;
    std::vector<std::vector<uint32_t>> buckets;
    std::vector<size_t> lens;
    for (uint32_t i = 0; i < n; ++i) {
      const size_t len = Len(i);
      auto [it, fresh] = bucket_of_len.emplace(len, buckets.size());
      if (fresh) {
        buckets.emplace_back();
        lens.push_back(len);
      }
      buckets[it->second].push_back(i);
    }
    hash_.reserve(in_.tokens.size());
    for (std::string_view t : in_.tokens) hash_.push_back(std::hash<std::string_view>{}(t));
    for (size_t b = 0; b < buckets.size(); ++b) InitialGroups(buckets[b], lens[b]);
    // Groups in order of their first line, so ids follow the input.
    std::vector<size_t> order(first_line_.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return first_line_[a] < first_line_[b]; });
    std::vector<uint32_t> rank(order.size());
    Grouping sorted;
    for (size_t r = 0; r < order.size(); ++r) {
      rank[order[r]] = static_cast<uint32_t>(r);
      sorted.templates.push_back(std::move(out_->templates[order[r]]));
      sorted.sizes.push_back(out_->sizes[order[r]]);
    }
    out_->templates = std::move(sorted.templates);
    out_->sizes = std::move(sorted.sizes);
    for (auto& g : out_->group_of_line) g = rank[g];
  }

 private:
  size_t Len(uint32_t line) const { return in_.starts[line + 1] - in_.starts[line]; }
  uint64_t Hash(uint32_t line, size_t pos) const { return hash_[in_.starts[line] + pos]; }

  // How often each word occurs anywhere in the batch, for Refine's "used elsewhere" test;
  // counted the first time a group needs it.
  uint32_t Anywhere(std::string_view word) {
    if (!anywhere_built_) {
      anywhere_built_ = true;
      anywhere_.reserve(in_.size());
      for (std::string_view t : in_.tokens)
        for (size_t i = 0; i < t.size();) {
          if (!IsWordChar(t[i])) {
            ++i;
            continue;
          }
          size_t j = i;
          while (j < t.size() && IsWordChar(t[j])) ++j;
          ++anywhere_[t.substr(i, j - i)];
          i = j;
        }
    }
    auto it = anywhere_.find(word);
    return it == anywhere_.end() ? 0 : it->second;
  }

  // The token's hash with each run of digits read as one `0`.
  uint64_t FoldedHash(uint32_t line, size_t pos) const {
    std::string_view t = Tok(line, pos);
    bool digit = false;
    for (char c : t) digit |= c >= '0' && c <= '9';
    if (!digit) return Hash(line, pos);
    std::string& f = fold_;
    f.clear();
    for (size_t i = 0; i < t.size(); ++i) {
      const bool d = t[i] >= '0' && t[i] <= '9';
      if (d && i > 0 && t[i - 1] >= '0' && t[i - 1] <= '9') continue;
      f.push_back(d ? '0' : t[i]);
    }
    return std::hash<std::string_view>{}(f);
  }

  std::string_view Tok(uint32_t line, size_t pos) const {
    return in_.tokens[in_.starts[line] + pos];
  }

  // Step 2: the longest common pattern of each line of one bucket.
  void InitialGroups(const std::vector<uint32_t>& lines, size_t len) {
    if (len == 0) {
      std::vector<uint32_t> all = lines;
      Emit(all, 0);
      return;
    }
    std::vector<uint64_t> keys(lines.size() * len);
    std::vector<const uint32_t*> counts(lines.size() * len, nullptr);  // into freq (stable)
    std::unordered_map<uint64_t, uint32_t> freq;
    freq.reserve(lines.size() * 2);
    for (size_t i = 0; i < lines.size(); ++i)
      for (size_t p = 0; p < len; ++p) {
        if (Tok(lines[i], p) == kWildcard) continue;
        // (position, token), never 0; tokens that differ only in digits count as one
        // (`r24=<*>`, `r70=<*>`), as everywhere in the miner.
        const uint64_t k = Mix(FoldedHash(lines[i], p) ^ Mix(p)) | 1;
        keys[i * len + p] = k;
        uint32_t& c = freq[k];
        ++c;
        counts[i * len + p] = &c;
      }
    std::unordered_map<uint64_t, uint32_t> group_of_key;
    std::vector<std::vector<uint32_t>> groups;
    std::vector<std::pair<uint32_t, uint32_t>> tally;  // (count, tokens with that count)
    std::vector<uint32_t> f(len);
    for (size_t i = 0; i < lines.size(); ++i) {
      tally.clear();
      for (size_t p = 0; p < len; ++p) {
        const uint64_t k = keys[i * len + p];
        f[p] = k ? *counts[i * len + p] : 0;
        if (!k) continue;
        auto it = std::find_if(tally.begin(), tally.end(),
                               [&](const auto& e) { return e.first == f[p]; });
        if (it == tally.end()) {
          tally.emplace_back(f[p], 1);
        } else {
          ++it->second;
        }
      }
      uint32_t best = 0, best_n = 0;
      for (auto [c, m] : tally)
        if (m > best_n || (m == best_n && c > best)) {
          best = c;
          best_n = m;
        }
      uint64_t h = Mix(len);
      for (size_t p = 0; p < len; ++p)
        if (best && f[p] == best) h = Mix(h ^ keys[i * len + p]);
      auto [it, fresh] = group_of_key.emplace(h, static_cast<uint32_t>(groups.size()));
      if (fresh) groups.emplace_back();
      groups[it->second].push_back(lines[i]);
    }
    for (auto& g : groups) Refine(g, len);
  }

  // Step 3: split a group on its columns of few words, or emit it.
  void Refine(std::vector<uint32_t>& group, size_t len) {
    const size_t n = group.size();
    int best_col = -1;
    size_t best_k = 0;
    // Per distinct value of a column (by hash): its count and a line that holds it.
    std::unordered_map<uint64_t, std::pair<uint32_t, uint32_t>> values;
    const size_t split_below = static_cast<size_t>(o_.split_below);
    std::vector<std::pair<size_t, size_t>> few_words;  // (column, values) used elsewhere
    for (size_t p = 0; p < len && n > 1; ++p) {
      const uint64_t h0 = Hash(group[0], p);
      size_t same = 1;
      while (same < n && Hash(group[same], p) == h0) ++same;
      if (same == n) continue;  // a constant column
      values.clear();
      std::string_view first = Tok(group[0], p);
      bool words = true, digits_only = true;
      for (uint32_t line : group) {
        auto [it, fresh] = values.try_emplace(Hash(line, p), 0, line);
        ++it->second.first;
        if (fresh) {
          std::string_view t = Tok(line, p);
          words = words && !HasWildcard(t) && IsWordToken(t);
          digits_only = digits_only && (t == first || SameButDigits(t, first));
          if (!words || values.size() >= split_below) break;
        }
      }
      const size_t k = values.size();
      if (k < 2 || !words || digits_only || k >= split_below) continue;
      if (2 * k > n) continue;
      // Words that the batch also uses elsewhere (other places, other messages) are data
      // passing through several messages, such as a user name or a service that starts and
      // stops; words used only here are the wording of different messages. Elsewhere means
      // at least half as often as here: a value shared by two messages of unequal counts.
      size_t data_like = 0;
      for (const auto& [h, cl] : values)
        if (2 * (Anywhere(Core(Tok(cl.second, p))) - cl.first) >= cl.first) ++data_like;
      if (2 * data_like > k) {
        few_words.push_back({p, k});
        continue;
      }
      if (best_col < 0 || k < best_k) {
        best_col = static_cast<int>(p);
        best_k = k;
      }
    }
    // Two columns of a few words that vary together (one determines the other) are the
    // wording of different messages even when their words occur elsewhere: a state
    // machine's `from NEW to SCHEDULED`, `from SCHEDULED to RUNNING`. A variable does not
    // follow another column.
    if (best_col < 0) {
      std::unordered_map<uint64_t, uint64_t> a_to_b, b_to_a;
      for (size_t a = 0; a < few_words.size() && best_col < 0; ++a)
        for (size_t b = a + 1; b < few_words.size(); ++b) {
          a_to_b.clear();
          b_to_a.clear();
          bool ab = true, ba = true;
          for (uint32_t line : group) {
            const uint64_t x = Hash(line, few_words[a].first), y = Hash(line, few_words[b].first);
            auto [i, fi] = a_to_b.emplace(x, y);
            ab = ab && (fi || i->second == y);
            auto [j, fj] = b_to_a.emplace(y, x);
            ba = ba && (fj || j->second == x);
            if (!ab && !ba) break;
          }
          if (ab || ba) {
            best_col = static_cast<int>(few_words[a].first);
            break;
          }
        }
    }
    if (best_col < 0) {
      Emit(group, len);
      return;
    }
    std::unordered_map<uint64_t, size_t> part_of;
    std::vector<std::vector<uint32_t>> parts;
    for (uint32_t line : group) {
      auto [it, fresh] = part_of.emplace(Hash(line, static_cast<size_t>(best_col)), parts.size());
      if (fresh) parts.emplace_back();
      parts[it->second].push_back(line);
    }
    group.clear();
    group.shrink_to_fit();
    for (auto& part : parts) Refine(part, len);
  }

  // Step 4.
  void Emit(const std::vector<uint32_t>& group, size_t len) {
    const uint32_t id = static_cast<uint32_t>(out_->templates.size());
    std::vector<std::string> tmpl(len);
    std::vector<uint64_t> seen;  // hashes of the values already folded in
    for (size_t p = 0; p < len; ++p) {
      std::string& t = tmpl[p];
      t.assign(Tok(group[0], p));
      seen.assign(1, Hash(group[0], p));
      for (size_t i = 1; i < group.size() && t != kWildcard; ++i) {
        const uint64_t h = Hash(group[i], p);
        if (h == seen[0] || std::find(seen.begin(), seen.end(), h) != seen.end()) continue;
        if (seen.size() < 64) seen.push_back(h);
        t = GeneralizeToken(t, Tok(group[i], p));
      }
    }
    out_->templates.push_back(std::move(tmpl));
    out_->sizes.push_back(group.size());
    first_line_.push_back(*std::min_element(group.begin(), group.end()));
    for (uint32_t line : group) out_->group_of_line[line] = id;
  }

  const TokenLines& in_;
  GroupOptions o_;
  Grouping* out_;
  std::vector<uint32_t> first_line_;
  std::vector<uint64_t> hash_;  // per token of in_.tokens
  mutable std::string fold_;
  bool anywhere_built_ = false;
  std::unordered_map<std::string_view, uint32_t> anywhere_;
};

}  // namespace

Grouping GroupByFrequency(const TokenLines& lines, const GroupOptions& options) {
  Grouping out;
  Grouper(lines, options, &out).Run();
  return out;
}

}  // namespace clawback::learn
