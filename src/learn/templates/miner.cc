#include "learn/templates/miner.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "learn/templates/masker.h"

namespace clawback::learn {
namespace {

struct SvHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

bool HasDigit(std::string_view s) {
  for (char c : s)
    if (c >= '0' && c <= '9') return true;
  return false;
}

// The routing key of a token in the tree: variables and tokens with digits share `<*>`.
std::string_view RouteKey(std::string_view token) {
  if (HasWildcard(token) || HasDigit(token)) return kWildcard;
  return token;
}

bool IsAlphaChar(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// A token made only of letters (and inner `_` or `-`): wording, not a value.
// Outer brackets and punctuation do not change that: `[preauth]`, `(TERM,`.
bool IsWord(std::string_view s) {
  while (!s.empty() && std::string_view("([{<'\"").find(s.front()) != std::string_view::npos)
    s.remove_prefix(1);
  while (!s.empty() && std::string_view(")]}>,;:'\".!?").find(s.back()) != std::string_view::npos)
    s.remove_suffix(1);
  if (s.empty() || !IsAlphaChar(s[0])) return false;
  for (char c : s)
    if (!(IsAlphaChar(c) || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

bool IsBoundaryChar(char c) {
  return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_');
}

bool HasLetter(std::string_view s) {
  for (char c : s)
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return false;
}

bool OnlyOf(std::string_view s, std::string_view chars) {
  for (char c : s)
    if (chars.find(c) == std::string_view::npos) return false;
  return true;
}

// True when a and b differ only inside runs of digits (`r24=<*>` and `r7=<*>`, `ccr0` and
// `ccr3`): the same name with a different number in it, which masking left in place because
// a digit glued to letters is as often part of a name (`ssh2`, `ee0`) as a value.
bool DifferOnlyInDigits(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  bool digits = false;
  while (i < a.size() && j < b.size()) {
    const bool da = a[i] >= '0' && a[i] <= '9', db = b[j] >= '0' && b[j] <= '9';
    if (da && db) {
      while (i < a.size() && a[i] >= '0' && a[i] <= '9') ++i;
      while (j < b.size() && b[j] >= '0' && b[j] <= '9') ++j;
      digits = true;
      continue;
    }
    if (a[i] != b[j]) return false;
    ++i;
    ++j;
  }
  return digits && i == a.size() && j == b.size();
}

std::vector<std::string_view> SplitSpaces(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

bool IsWordToken(std::string_view token) { return IsWord(token); }
bool SameButDigits(std::string_view a, std::string_view b) { return DifferOnlyInDigits(a, b); }

std::string GeneralizeToken(std::string_view a, std::string_view b) {
  if (a == b) return std::string(a);
  if (a == kWildcard || b == kWildcard) return std::string(kWildcard);
  // Longest shared prefix that ends at a boundary (a punctuation character).
  size_t limit = std::min(a.size(), b.size());
  size_t p = 0, prefix = 0;
  while (p < limit && a[p] == b[p]) {
    ++p;
    if (IsBoundaryChar(a[p - 1])) prefix = p;
  }
  // Longest shared suffix that starts at a boundary, not overlapping the prefix.
  size_t s = 0, suffix = 0;
  while (s < limit - prefix && a[a.size() - 1 - s] == b[b.size() - 1 - s]) {
    ++s;
    if (IsBoundaryChar(a[a.size() - s])) suffix = s;
  }
  std::string_view pre = a.substr(0, prefix);
  std::string_view suf = a.substr(a.size() - suffix);
  // A `<*>` inside the shared ends would be split; keep the wildcard whole.
  if (pre.ends_with("<") || pre.ends_with("<*")) pre = {};
  if (suf.starts_with(">") || suf.starts_with("*>")) suf = {};
  const bool brackets_only = (!pre.empty() || !suf.empty()) && OnlyOf(pre, "([{<'\"") &&
                             OnlyOf(suf, ")]}>,;:'\".!?");
  const bool keep = HasLetter(pre) || HasLetter(suf) || brackets_only;
  if (!keep) return std::string(kWildcard);
  std::string out;
  out.reserve(pre.size() + kWildcard.size() + suf.size());
  out.append(pre).append(kWildcard).append(suf);
  return out;
}

struct TemplateMiner::Cluster {
  uint64_t id = 0;
  uint64_t count = 0;
  size_t wildcards = 0;
  std::vector<std::string> tokens;
};

struct TemplateMiner::Node {
  std::unordered_map<std::string, std::unique_ptr<Node>, SvHash, std::equal_to<>> children;
  std::vector<Cluster*> clusters;

  Node* Child(std::string_view key) const {
    auto it = children.find(key);
    return it == children.end() ? nullptr : it->second.get();
  }
};

Status ValidateMinerOptions(const MinerOptions& o) {
  if (!(o.similarity > 0.0 && o.similarity <= 1.0))
    return InvalidArgument("--similarity must be in (0, 1], got " + std::to_string(o.similarity));
  if (o.depth < 3 || o.depth > 16)
    return InvalidArgument("--depth must be between 3 and 16, got " + std::to_string(o.depth));
  if (o.max_children < 2)
    return InvalidArgument("max children must be at least 2, got " +
                           std::to_string(o.max_children));
  return Status::Ok();
}

TemplateMiner::TemplateMiner(MinerOptions options)
    : options_(options) {}
TemplateMiner::~TemplateMiner() = default;
TemplateMiner::TemplateMiner(TemplateMiner&&) noexcept = default;
TemplateMiner& TemplateMiner::operator=(TemplateMiner&&) noexcept = default;

// The leaf for a token sequence: first the length layer, then `depth - 2` token layers.
TemplateMiner::Node* TemplateMiner::Leaf(std::span<const std::string_view> tokens, bool create) {
  if (tokens.size() >= by_length_.size()) {
    if (!create) return nullptr;
    by_length_.resize(tokens.size() + 1);
  }
  std::unique_ptr<Node>& slot = by_length_[tokens.size()];
  if (!slot) {
    if (!create) return nullptr;
    slot = std::make_unique<Node>();
  }
  Node* node = slot.get();
  const size_t layers = std::min<size_t>(tokens.size(), static_cast<size_t>(options_.depth - 2));
  for (size_t i = 0; i < layers; ++i) {
    std::string_view key = RouteKey(tokens[i]);
    Node* next = node->Child(key);
    if (!next && create) {
      Node* wild = node->Child(kWildcard);
      const size_t max = static_cast<size_t>(options_.max_children);
      if (key == kWildcard || (wild && node->children.size() >= max) ||
          (!wild && node->children.size() + 1 >= max)) {
        key = kWildcard;
        next = wild;
      }
      if (!next)
        next = node->children.emplace(std::string(key), std::make_unique<Node>()).first->second.get();
    } else if (!next) {
      next = node->Child(kWildcard);
      if (!next) return nullptr;
    }
    node = next;
  }
  return node;
}

const TemplateMiner::Node* TemplateMiner::FindLeaf(std::span<const std::string_view> tokens) const {
  return const_cast<TemplateMiner*>(this)->Leaf(tokens, false);
}

TemplateMiner::Cluster* TemplateMiner::BestIn(const Node* leaf,
                                              std::span<const std::string_view> tokens,
                                              uint64_t below_id,
                                              const std::unordered_set<uint64_t>* taken) const {
  if (!leaf || tokens.empty()) {
    if (leaf)
      for (Cluster* c : leaf->clusters)
        if (c->tokens.empty()) return c;
    return nullptr;
  }
  Cluster* best = nullptr;
  double best_sim = -1.0;
  size_t best_wild = 0;
  const double n = static_cast<double>(tokens.size());
  for (Cluster* c : leaf->clusters) {
    if (c->id >= below_id || (taken && taken->count(c->id))) continue;
    size_t same = 0, words_differ = 0, constants = 0;
    bool values_align = true;
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string& t = c->tokens[i];
      if (t == kWildcard) {  // a position that varies is no evidence either way
        values_align = values_align && HasWildcard(tokens[i]);
        continue;
      }
      ++constants;
      if (t == tokens[i] || SameButDigits(t, tokens[i])) {
        ++same;
      } else if (IsWord(t) && IsWord(tokens[i])) {
        ++words_differ;
      }
    }
    // Two different words where the template has never varied count twice: messages that
    // differ in their wording are different messages more often than not.
    double sim = static_cast<double>(same) / (n + static_cast<double>(words_differ));
    // A line that agrees with every constant of the template and has masked values where
    // the template varies is an instance of it, however many values it carries
    // (`ask <*> to delete <*> <*> ... <*>`).
    if (same == constants && values_align) sim = 1.0;
    if (sim > best_sim || (sim == best_sim && c->wildcards > best_wild)) {
      best = c;
      best_sim = sim;
      best_wild = c->wildcards;
    }
  }
  if (best && best_sim >= options_.similarity) return best;
  return nullptr;
}

TemplateMiner::Cluster* TemplateMiner::Insert(std::vector<std::string> tokens, uint64_t id,
                                              uint64_t count) {
  auto c = std::make_unique<Cluster>();
  c->id = id;
  c->count = count;
  c->tokens = std::move(tokens);
  for (const auto& t : c->tokens) c->wildcards += t == kWildcard;
  std::vector<std::string_view> views(c->tokens.begin(), c->tokens.end());
  Node* leaf = Leaf(views, true);
  Cluster* raw = c.get();
  leaf->clusters.push_back(raw);
  by_id_[id] = raw;
  clusters_.push_back(std::move(c));
  next_id_ = std::max(next_id_, id + 1);
  return raw;
}

void TemplateMiner::Generalize(Cluster* c, std::span<const std::string_view> tokens) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string& t = c->tokens[i];
    if (t == tokens[i] || t == kWildcard) continue;
    t = GeneralizeToken(t, tokens[i]);
    if (t == kWildcard) ++c->wildcards;
  }
}

uint64_t TemplateMiner::Add(std::span<const std::string_view> tokens) {
  Node* leaf = Leaf(tokens, false);
  Cluster* c = BestIn(leaf, tokens);
  if (!c) {
    std::vector<std::string> t(tokens.begin(), tokens.end());
    return Insert(std::move(t), next_id_, 1)->id;
  }
  ++c->count;
  Generalize(c, tokens);
  return c->id;
}

std::optional<uint64_t> TemplateMiner::FindExact(std::span<const std::string_view> tokens) const {
  const Node* leaf = FindLeaf(tokens);
  if (leaf)
    for (const Cluster* x : leaf->clusters)
      if (std::equal(x->tokens.begin(), x->tokens.end(), tokens.begin(), tokens.end()))
        return x->id;
  return std::nullopt;
}

uint64_t TemplateMiner::AddGroup(std::span<const std::string_view> tokens, uint64_t count,
                                 uint64_t batch_first_id, const std::unordered_set<uint64_t>* taken) {
  Cluster* c = nullptr;
  if (auto id = FindExact(tokens)) c = by_id_.at(*id);
  Node* leaf = Leaf(tokens, false);
  if (!c) c = BestIn(leaf, tokens, batch_first_id, taken);
  if (!c) {
    std::vector<std::string> t(tokens.begin(), tokens.end());
    return Insert(std::move(t), next_id_, count)->id;
  }
  c->count += count;
  Generalize(c, tokens);
  return c->id;
}

std::optional<uint64_t> TemplateMiner::Match(std::span<const std::string_view> tokens) const {
  const Cluster* c = BestIn(FindLeaf(tokens), tokens);
  if (!c) return std::nullopt;
  return c->id;
}

std::string TemplateMiner::TemplateText(uint64_t id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return "";
  std::string out;
  for (const auto& t : it->second->tokens) {
    if (!out.empty()) out.push_back(' ');
    out.append(t);
  }
  return out;
}

std::vector<TemplateInfo> TemplateMiner::Templates() const {
  std::vector<TemplateInfo> out;
  out.reserve(clusters_.size());
  for (const auto& c : clusters_) out.push_back({c->id, TemplateText(c->id), c->count});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

size_t TemplateMiner::size() const { return clusters_.size(); }

nlohmann::json TemplateMiner::ToJson() const {
  nlohmann::json templates = nlohmann::json::array();
  for (const auto& t : Templates())
    templates.push_back({{"id", t.id}, {"template", t.text}, {"count", t.count}});
  return {{"format", "clawback-templates"},
          {"version", 1},
          {"next_id", next_id_},
          {"templates", std::move(templates)}};
}

Result<TemplateMiner> TemplateMiner::FromJson(const nlohmann::json& j, MinerOptions options) {
  RETURN_IF_ERROR(ValidateMinerOptions(options));
  if (!j.is_object() || j.value("format", "") != "clawback-templates")
    return InvalidArgument("not a clawback template state (format is not clawback-templates)");
  if (j.value("version", 0) != 1)
    return InvalidArgument("unsupported template state version " +
                           std::to_string(j.value("version", 0)));
  TemplateMiner m(options);
  try {
    for (const auto& t : j.at("templates")) {
      uint64_t id = t.at("id").get<uint64_t>();
      if (id == 0) return InvalidArgument("template id 0 is not valid");
      if (m.by_id_.count(id)) return InvalidArgument("duplicate template id " + std::to_string(id));
      std::string text = t.at("template").get<std::string>();
      std::vector<std::string> tokens;
      for (auto v : SplitSpaces(text)) tokens.emplace_back(v);
      m.Insert(std::move(tokens), id, t.value("count", uint64_t{0}));
    }
    m.next_id_ = std::max(m.next_id_, j.value("next_id", uint64_t{1}));
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("malformed template state: ") + e.what());
  }
  return m;
}

}  // namespace clawback::learn
