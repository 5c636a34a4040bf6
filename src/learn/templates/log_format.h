// Log line formats in the notation of Loghub's benchmark settings:
// `<Date> <Time> <Level> \[<Process>\] <Component>: <Content>`.
//
// `<Name>` is a field; the text between fields is matched literally, a run of spaces matches
// any run of whitespace, and `\x` stands for the character x. Fields are matched shortest
// first, like the regex `(?P<Name>.*?)` Loghub builds; `<Content>` is the part that is mined.
// Separators that use other regex syntax (`\d`, `.`, `+`, `[...]`, ...) are honoured through
// std::regex, which is slower; plain separators use a hand-written matcher.
//
// Thread-safety: immutable after Parse(); Extract() is safe to call concurrently.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace clawback::learn {

class LogFormat {
 public:
  // InvalidArgument when the format has no <Content> field, an unclosed `<`, or a separator
  // that is not a valid regex.
  static Result<LogFormat> Parse(std::string_view format);

  // Sets *content to the line's <Content> (a view into `line`) and returns true when the line
  // matches; returns false otherwise. Surrounding whitespace of the line is ignored.
  bool Extract(std::string_view line, std::string_view* content) const;

  const std::vector<std::string>& fields() const { return fields_; }
  bool uses_regex() const { return regex_ != nullptr; }

 private:
  bool MatchFrom(std::string_view line, size_t pos, size_t field, std::string_view* content,
                 int* budget) const;
  // Length matched by literal `lit` at line[pos], or npos.
  static size_t MatchLiteral(std::string_view lit, std::string_view line, size_t pos);
  // First position >= e where `lit` may match (its first character), or npos.
  static size_t NextCandidate(std::string_view lit, std::string_view line, size_t e);

  std::vector<std::string> fields_;
  std::vector<std::string> literals_;  // fields_.size() + 1 separators; ' ' means \s+
  size_t content_ = 0;
  std::shared_ptr<const std::regex> regex_;
};

}  // namespace clawback::learn
