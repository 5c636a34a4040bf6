#include "learn/templates/log_format.h"

#include <cstring>

namespace clawback::learn {
namespace {

inline bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<LogFormat> LogFormat::Parse(std::string_view format) {
  LogFormat f;
  std::string lit;        // the plain form: unescaped, spaces collapsed
  std::string regex = "^";
  std::string lit_regex;  // the separator as regex text
  bool needs_regex = false;
  auto flush_literal = [&] {
    f.literals_.push_back(lit);
    regex += lit_regex;
    lit.clear();
    lit_regex.clear();
  };
  size_t i = 0;
  while (i < format.size()) {
    char c = format[i];
    if (c == '<') {
      size_t close = format.find('>', i + 1);
      if (close == std::string_view::npos)
        return InvalidArgument("log format: '<' at offset " + std::to_string(i) +
                               " has no closing '>'");
      std::string name(format.substr(i + 1, close - i - 1));
      if (name.empty() || name.find_first_of("< \t") != std::string::npos)
        return InvalidArgument("log format: bad field name '<" + name + ">'");
      flush_literal();
      if (name == "Content") f.content_ = f.fields_.size();
      f.fields_.push_back(name);
      regex += "(.*?)";
      i = close + 1;
      continue;
    }
    if (c == ' ') {
      while (i < format.size() && format[i] == ' ') ++i;
      lit.push_back(' ');
      lit_regex += "\\s+";
      continue;
    }
    if (c == '\\' && i + 1 < format.size()) {
      char e = format[i + 1];
      if (std::string_view("dDwWsSbBnrtfv0123456789").find(e) != std::string_view::npos)
        needs_regex = true;
      lit.push_back(e);
      lit_regex.push_back('\\');
      lit_regex.push_back(e);
      i += 2;
      continue;
    }
    if (std::string_view(".^$*+?()[]{}|").find(c) != std::string_view::npos) needs_regex = true;
    lit.push_back(c);
    lit_regex.push_back(c);
    ++i;
  }
  flush_literal();
  regex += "$";
  bool has_content = false;
  for (const auto& n : f.fields_) has_content |= n == "Content";
  if (!has_content)
    return InvalidArgument("log format '" + std::string(format) +
                           "' has no <Content> field (the part of each line that is mined)");
  if (needs_regex) {
    try {
      f.regex_ = std::make_shared<const std::regex>(regex, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return InvalidArgument("log format '" + std::string(format) +
                             "' is not a valid pattern: " + e.what());
    }
  }
  return f;
}

size_t LogFormat::MatchLiteral(std::string_view lit, std::string_view line, size_t pos) {
  size_t j = pos;
  for (char c : lit) {
    if (c == ' ') {
      if (j >= line.size() || !IsSpace(line[j])) return std::string_view::npos;
      while (j < line.size() && IsSpace(line[j])) ++j;
    } else {
      if (j >= line.size() || line[j] != c) return std::string_view::npos;
      ++j;
    }
  }
  return j - pos;
}

// The first position at or after `e` where `lit` could start, or npos. A literal that
// starts with a space can only start on whitespace; any other literal on its first
// character, found with memchr.
size_t LogFormat::NextCandidate(std::string_view lit, std::string_view line, size_t e) {
  if (lit.empty()) return e;
  if (e >= line.size()) return std::string_view::npos;
  if (lit[0] == ' ') {
    while (e < line.size() && !IsSpace(line[e])) ++e;
    return e < line.size() ? e : std::string_view::npos;
  }
  const void* p = std::memchr(line.data() + e, lit[0], line.size() - e);
  return p ? static_cast<size_t>(static_cast<const char*>(p) - line.data())
           : std::string_view::npos;
}

bool LogFormat::MatchFrom(std::string_view line, size_t pos, size_t field,
                          std::string_view* content, int* budget) const {
  const std::string& next = literals_[field + 1];
  const bool last = field + 1 == fields_.size();
  // A literal that starts with a space eats the whole whitespace run it starts in, so
  // every later start inside that run ends where the first did: one try per run.
  const bool space_led = !next.empty() && next[0] == ' ';
  if (last) {
    // The last field runs to a separator that ends the line.
    if (next.empty()) {
      if (field == content_) *content = line.substr(pos);
      return true;
    }
    for (size_t e = NextCandidate(next, line, pos); e != std::string_view::npos;) {
      size_t n = MatchLiteral(next, line, e);
      if (n != std::string_view::npos && e + n == line.size()) {
        if (field == content_) *content = line.substr(pos, e - pos);
        return true;
      }
      size_t after = e + 1;
      if (space_led)
        while (after < line.size() && IsSpace(line[after])) ++after;
      e = NextCandidate(next, line, after);
    }
    return false;
  }
  for (size_t e = NextCandidate(next, line, pos); e != std::string_view::npos;) {
    size_t n = MatchLiteral(next, line, e);
    if (n != std::string_view::npos) {
      if (--*budget < 0) return false;
      if (MatchFrom(line, e + n, field + 1, content, budget)) {
        if (field == content_) *content = line.substr(pos, e - pos);
        return true;
      }
    }
    if (next.empty()) {
      // An empty separator matches everywhere: try every split point.
      if (e >= line.size()) break;
      ++e;
      continue;
    }
    size_t after = e + 1;
    if (space_led)
      while (after < line.size() && IsSpace(line[after])) ++after;
    e = NextCandidate(next, line, after);
  }
  return false;
}

bool LogFormat::Extract(std::string_view line, std::string_view* content) const {
  line = Trim(line);
  if (regex_) {
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_match(line.begin(), line.end(), m, *regex_)) return false;
    const auto& g = m[static_cast<int>(content_) + 1];
    *content = line.substr(static_cast<size_t>(g.first - line.begin()),
                           static_cast<size_t>(g.length()));
    return true;
  }
  size_t n = MatchLiteral(literals_[0], line, 0);
  if (n == std::string_view::npos) return false;
  int budget = 256;
  return MatchFrom(line, n, 0, content, &budget);
}

}  // namespace clawback::learn
