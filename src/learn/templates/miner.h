// The online template miner: a parse tree in the Drain family (He et al., ICWS 2017) over
// lines already masked by Masker.
//
// A line's tokens are routed by their count and then by their first `depth - 2` tokens
// (a token holding a digit or a wildcard routes to the wildcard branch) to a leaf; in that
// leaf the template most similar to the line (share of positions where both agree; tokens
// that differ only inside runs of digits, such as `r24=<*>` and `r7=<*>`, agree) takes
// it when the similarity reaches the threshold, and generalises: each position where they
// differ becomes a variable. Unlike Drain, a differing token keeps the constant text both
// sides share at its ends, so `MININT-FNANLI5` and `MININT-B0K2` give `MININT-<*>`, and
// `user=root` / `user=admin` give `user=<*>`.
//
// Template ids are assigned when a template is created and never change; ToJson/FromJson
// carry the templates, their ids and counts across runs, so a template keeps its id in
// every later run that loads the state.
//
// Thread-safety: not thread-safe; one miner per thread or external locking.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/status.h"

namespace clawback::learn {

struct MinerOptions {
  double similarity = 0.5;  // share of positions that must agree, in (0, 1]
  int depth = 4;            // tree depth incl. root and length layers (>= 3)
  int max_children = 100;   // children per tree node before new tokens share `<*>`
};

// Checks the ranges above; InvalidArgument naming the option otherwise.
Status ValidateMinerOptions(const MinerOptions& options);

struct TemplateInfo {
  uint64_t id = 0;
  std::string text;  // tokens joined by single spaces, variables as `<*>`
  uint64_t count = 0;
};

// The generalisation of two differing tokens: their shared ends around one `<*>` when the
// shared part carries a letter (or is only the token's brackets), else `<*>`.
std::string GeneralizeToken(std::string_view a, std::string_view b);

// A token made only of letters, digits and inner `_` or `-`, starting with a letter, once
// its outer brackets and punctuation are set aside (`[preauth]`, `(TERM,`): wording, not a
// value.
bool IsWordToken(std::string_view token);
// True when a and b differ only inside runs of digits (`r24=<*>` and `r7=<*>`, `ccr0` and
// `ccr3`).
bool SameButDigits(std::string_view a, std::string_view b);

class TemplateMiner {
 public:
  explicit TemplateMiner(MinerOptions options = {});
  ~TemplateMiner();
  TemplateMiner(TemplateMiner&&) noexcept;
  TemplateMiner& operator=(TemplateMiner&&) noexcept;

  // Learns one masked line; returns the id of the template that now covers it.
  uint64_t Add(std::span<const std::string_view> tokens);
  // Learns a template that a batch grouping found for `count` lines (GroupByFrequency): a
  // known template with the same tokens takes it; else the template most similar to it, as
  // Add would choose, among those created before the batch (ids below batch_first_id) and
  // not in `taken` (the caller's set of ids other groups of the batch have joined), so that
  // groups of one batch never merge with each other; else it becomes a new template.
  // Returns the id that now covers those lines.
  uint64_t AddGroup(std::span<const std::string_view> tokens, uint64_t count,
                    uint64_t batch_first_id, const std::unordered_set<uint64_t>* taken = nullptr);
  // The id of the template with exactly these tokens, if any.
  std::optional<uint64_t> FindExact(std::span<const std::string_view> tokens) const;
  // The id the next new template will get.
  uint64_t next_id() const { return next_id_; }
  // The id of the template that would take the line, without learning.
  std::optional<uint64_t> Match(std::span<const std::string_view> tokens) const;

  // The current text of a template; empty when the id is unknown.
  std::string TemplateText(uint64_t id) const;
  // Every template, ordered by id.
  std::vector<TemplateInfo> Templates() const;
  size_t size() const;
  const MinerOptions& options() const { return options_; }

  // {"format":"clawback-templates","version":1,"next_id":N,"templates":[{id,template,count}]}
  nlohmann::json ToJson() const;
  // Rebuilds a miner from ToJson()'s output; the options are those of the new run.
  static Result<TemplateMiner> FromJson(const nlohmann::json& j, MinerOptions options);

 private:
  struct Cluster;
  struct Node;
  Node* Leaf(std::span<const std::string_view> tokens, bool create);
  const Node* FindLeaf(std::span<const std::string_view> tokens) const;
  Cluster* BestIn(const Node* leaf, std::span<const std::string_view> tokens,
                  uint64_t below_id = UINT64_MAX,
                  const std::unordered_set<uint64_t>* taken = nullptr) const;
  void Generalize(Cluster* c, std::span<const std::string_view> tokens);
  Cluster* Insert(std::vector<std::string> tokens, uint64_t id, uint64_t count);

  MinerOptions options_;
  uint64_t next_id_ = 1;
  std::vector<std::unique_ptr<Cluster>> clusters_;
  std::unordered_map<uint64_t, Cluster*> by_id_;
  std::vector<std::unique_ptr<Node>> by_length_;  // the tree's first layer: token count
};

}  // namespace clawback::learn
