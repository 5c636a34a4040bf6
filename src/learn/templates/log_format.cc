#include "learn/templates/log_format.h"

#include <cstring>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

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

struct LogFormat::Code {
  pcre2_code* code = nullptr;
  uint32_t content_group = 0;
  uint32_t pairs = 0;  // ovector pairs a match needs: capture groups + 1
  ~Code() { pcre2_code_free(code); }
};

namespace {

bool IsFieldName(std::string_view n) {
  if (n.empty() || n.size() > 32) return false;
  auto word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  if (n[0] >= '0' && n[0] <= '9') return false;
  for (char c : n)
    if (!word(c)) return false;
  return true;
}

// The literal text of a separator for the hand-written scanner (escapes resolved, a run of
// spaces as one ' ', which stands for \s+), or false when it uses regex syntax.
bool PlainLiteral(std::string_view raw, std::string* out) {
  out->clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == ' ') {
      if (i == 0 || raw[i - 1] != ' ') out->push_back(' ');
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= raw.size()) return false;
      const char e = raw[i + 1];
      const bool alnum = (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9');
      // `\d`, `\s`, ... are classes; `\ ` is rewritten by the space rule into `\\s+`.
      if (alnum || e == ' ') return false;
      out->push_back(e);
      ++i;
      continue;
    }
    if (std::string_view(".^$*+?()[]{}|").find(c) != std::string_view::npos) return false;
    out->push_back(c);
  }
  return true;
}

// A separator as regex text: as written, with every run of spaces turned into \s+.
std::string SeparatorRegex(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size();) {
    if (raw[i] == ' ') {
      while (i < raw.size() && raw[i] == ' ') ++i;
      out += "\\s+";
    } else {
      out.push_back(raw[i++]);
    }
  }
  return out;
}

// Per-thread PCRE2 match data, grown to the largest pattern seen.
struct MatchScratch {
  pcre2_match_data* data = nullptr;
  uint32_t pairs = 0;
  ~MatchScratch() { pcre2_match_data_free(data); }
  pcre2_match_data* Get(uint32_t need) {
    if (need > pairs) {
      pcre2_match_data_free(data);
      data = pcre2_match_data_create(need, nullptr);
      pairs = data ? need : 0;
    }
    return data;
  }
};

}  // namespace

Result<LogFormat> LogFormat::Parse(std::string_view format) {
  LogFormat f;
  std::string regex = "^";
  std::string raw;  // the separator being read, as written
  bool plain = true;
  auto flush_separator = [&] {
    std::string lit;
    plain = plain && PlainLiteral(raw, &lit);
    f.literals_.push_back(std::move(lit));
    regex += SeparatorRegex(raw);
    raw.clear();
  };
  size_t i = 0;
  while (i < format.size()) {
    // A field is `<`, one or more characters other than `<` and `>`, then `>`; any other
    // `<` is separator text.
    if (format[i] == '<') {
      size_t close = format.find_first_of("<>", i + 1);
      if (close != std::string_view::npos && format[close] == '>' && close > i + 1) {
        std::string name(format.substr(i + 1, close - i - 1));
        if (!IsFieldName(name))
          return InvalidArgument("log format: field '<" + name +
                                 ">' is not a valid name (letters, digits and _, at most 32, "
                                 "not starting with a digit)");
        for (const auto& n : f.fields_)
          if (n == name) return InvalidArgument("log format: field '<" + name + ">' appears twice");
        flush_separator();
        if (name == "Content") f.content_ = f.fields_.size();
        f.fields_.push_back(name);
        regex += "(?<" + name + ">.*?)";
        i = close + 1;
        continue;
      }
    }
    raw.push_back(format[i++]);
  }
  flush_separator();
  regex += "$";
  f.regex_text_ = regex;
  bool has_content = false;
  for (const auto& n : f.fields_) has_content |= n == "Content";
  if (!has_content)
    return InvalidArgument("log format '" + std::string(format) +
                           "' has no <Content> field (the part of each line that is mined)");
  // Compiled for plain formats too: a malformed format is reported either way, and a line the
  // scanner does not match goes to the regex, which may still match it by giving back part
  // of a whitespace run to a later (empty) field.
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(regex.data()), regex.size(), 0,
                                   &err, &err_offset, nullptr);
  if (!code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    return InvalidArgument("log format '" + std::string(format) +
                           "' is not a valid regular expression: " +
                           reinterpret_cast<const char*>(msg) + " at offset " +
                           std::to_string(err_offset) + " of '" + regex + "'");
  }
  f.scanner_ = plain;
  auto c = std::make_shared<Code>();
  c->code = code;
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if no JIT
  uint32_t groups = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
  c->pairs = groups + 1;
  int n = pcre2_substring_number_from_name(code, reinterpret_cast<PCRE2_SPTR>("Content"));
  if (n <= 0) return InvalidArgument("log format: no <Content> group in '" + regex + "'");
  c->content_group = static_cast<uint32_t>(n);
  f.code_ = std::move(c);
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

bool LogFormat::ExtractRegex(std::string_view line, std::string_view* content) const {
  thread_local MatchScratch scratch;
  pcre2_match_data* md = scratch.Get(code_->pairs);
  if (!md) return false;
  int rc = pcre2_match(code_->code, reinterpret_cast<PCRE2_SPTR>(line.data()), line.size(), 0, 0,
                       md, nullptr);
  // No match, or a match limit hit (pathological backtracking): the line does not match.
  if (rc < 0) return false;
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
  const PCRE2_SIZE b = ov[2 * code_->content_group], e = ov[2 * code_->content_group + 1];
  if (b == PCRE2_UNSET || static_cast<uint32_t>(rc) <= code_->content_group) {
    *content = line.substr(0, 0);
    return true;
  }
  *content = line.substr(b, e - b);
  return true;
}

bool LogFormat::Extract(std::string_view line, std::string_view* content) const {
  line = Trim(line);
  if (scanner_) {
    size_t n = MatchLiteral(literals_[0], line, 0);
    int budget = 256;
    if (n != std::string_view::npos && MatchFrom(line, n, 0, content, &budget)) return true;
  }
  return ExtractRegex(line, content);
}

}  // namespace clawback::learn
