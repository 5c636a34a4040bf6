// Lines in, template ids out: header format (optional) -> masking -> mining.
// The CLI (`clawback learn templates`), the learn engine and the benchmark drive this class.
//
// Two ways to mine:
// - AddLine: online, one line at a time, into the miner's parse tree (TemplateMiner::Add);
//   what `learn ingest` uses.
// - AddBatch: a batch of lines at once, grouped by the frequency of their words across the
//   batch (GroupByFrequency), each group then joined to the miner's templates
//   (TemplateMiner::AddGroup), so ids stay stable across batches and runs.
//
// A line that does not match the header format is counted and kept as an example; by
// default it is not mined (its id is 0), with UnmatchedLines::kWhole it is mined whole.
//
// Thread-safety: not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "learn/templates/grouper.h"
#include "learn/templates/log_format.h"
#include "learn/templates/masker.h"
#include "learn/templates/miner.h"

namespace clawback::learn {

enum class UnmatchedLines { kSkip, kWhole };

class TemplatePipeline {
 public:
  // The number of unmatched lines kept as examples.
  static constexpr size_t kMaxExamples = 3;

  TemplatePipeline(std::optional<LogFormat> format, Masker masker, TemplateMiner miner,
                   UnmatchedLines unmatched = UnmatchedLines::kSkip)
      : format_(std::move(format)),
        masker_(std::move(masker)),
        miner_(std::move(miner)),
        unmatched_policy_(unmatched) {}

  // Learns a raw log line online; returns its template id, or 0 when the line does not
  // match the format and such lines are skipped.
  uint64_t AddLine(std::string_view line) {
    std::string_view content;
    if (!Content(line, &content)) return 0;
    masker_.Mask(content, &scratch_);
    return miner_.Add(scratch_.tokens);
  }

  // Learns a batch of raw lines grouped by word frequency; returns one id per line (0 for a
  // skipped line).
  std::vector<uint64_t> AddBatch(std::span<const std::string_view> lines,
                                 const GroupOptions& options = {});

  // Lines seen so far (matched or not), lines that did not match the header format, and
  // the first few of those as (1-based position among the lines seen, text).
  uint64_t lines() const { return lines_; }
  uint64_t unmatched() const { return unmatched_; }
  const std::vector<std::pair<uint64_t, std::string>>& unmatched_examples() const {
    return examples_;
  }
  TemplateMiner& miner() { return miner_; }
  const TemplateMiner& miner() const { return miner_; }

 private:
  // The part of the line to mine; false when the line is skipped.
  bool Content(std::string_view line, std::string_view* content) {
    ++lines_;
    *content = line;
    if (!format_ || format_->Extract(line, content)) return true;
    ++unmatched_;
    if (examples_.size() < kMaxExamples)
      examples_.emplace_back(lines_, std::string(line.substr(0, 240)));
    *content = line;
    return unmatched_policy_ == UnmatchedLines::kWhole;
  }

  std::optional<LogFormat> format_;
  Masker masker_;
  TemplateMiner miner_;
  UnmatchedLines unmatched_policy_;
  MaskedLine scratch_;
  uint64_t lines_ = 0;
  uint64_t unmatched_ = 0;
  std::vector<std::pair<uint64_t, std::string>> examples_;
};

}  // namespace clawback::learn
