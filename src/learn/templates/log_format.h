// Log line formats in the notation of the published log-parsing benchmarks (Loghub's
// benchmark settings): `<Month>  <Date> <Time> <Component>(\[<PID>\])?: <Content>`.
//
// The format is a regular expression with fields: each `<Name>` (a `<`, a name, a `>`) is a
// field and becomes the lazy named group `(?<Name>.*?)`; the text between fields is a regular
// expression taken as written, except that every run of spaces in it becomes `\s+` (so
// `<Month>  <Date>` matches both "Jun  9" and "Jun 10"). The whole is anchored at both ends
// and matched against the line with its surrounding whitespace removed. This is how the
// benchmarks' log loader builds its regex, so a format from their settings splits a line
// the same way here: `(\[<PID>\])?` makes the pid optional, `\[` is a literal bracket,
// `( \(<Address>\))?`, alternations and classes work as in any Perl-style regex (PCRE2,
// byte-wise). `<Content>` is the part that is mined.
//
// Formats whose separators are plain text (no regex syntax other than `\x` escapes of
// punctuation) are matched by a hand-written scanner that gives the same split as the regex
// (shortest fields first, backtracking); the lines it does not match, and every line of the
// other formats, go to PCRE2 with its JIT (a test compares the two on random formats).
//
// Thread-safety: immutable after Parse(); Extract() is safe to call concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace clawback::learn {

class LogFormat {
 public:
  // InvalidArgument when the format has no <Content> field, names a field twice or with a
  // name that cannot be a group name, or does not compile as a regular expression (the
  // message names the format, the regex built from it and the error's offset).
  static Result<LogFormat> Parse(std::string_view format);

  // Sets *content to the line's <Content> (a view into `line`) and returns true when the line
  // matches; returns false otherwise. Surrounding whitespace of the line is ignored. A
  // <Content> inside an optional group that did not take part is empty.
  bool Extract(std::string_view line, std::string_view* content) const;

  const std::vector<std::string>& fields() const { return fields_; }
  // True when lines go to PCRE2 first (the separators use regex syntax); plain formats go
  // to the scanner and only the lines it does not match to PCRE2.
  bool uses_regex() const { return !scanner_; }
  // The anchored regular expression the format stands for.
  const std::string& regex() const { return regex_text_; }

 private:
  struct Code;
  bool MatchFrom(std::string_view line, size_t pos, size_t field, std::string_view* content,
                 int* budget) const;
  bool ExtractRegex(std::string_view line, std::string_view* content) const;
  // Length matched by literal `lit` at line[pos], or npos.
  static size_t MatchLiteral(std::string_view lit, std::string_view line, size_t pos);
  // First position >= e where `lit` may match (its first character), or npos.
  static size_t NextCandidate(std::string_view lit, std::string_view line, size_t e);

  std::vector<std::string> fields_;
  std::vector<std::string> literals_;  // fields_.size() + 1 separators; ' ' means \s+
  size_t content_ = 0;
  std::string regex_text_;
  bool scanner_ = false;              // plain separators: the hand-written scanner first
  std::shared_ptr<const Code> code_;  // the format's regex
};

}  // namespace clawback::learn
