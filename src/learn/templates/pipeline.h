// One line in, one template id out: header format (optional) -> masking -> mining.
// The CLI (`clawback learn templates`) and the benchmark both drive this class.
//
// Thread-safety: not thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "learn/templates/log_format.h"
#include "learn/templates/masker.h"
#include "learn/templates/miner.h"

namespace clawback::learn {

class TemplatePipeline {
 public:
  TemplatePipeline(std::optional<LogFormat> format, Masker masker, TemplateMiner miner)
      : format_(std::move(format)), masker_(std::move(masker)), miner_(std::move(miner)) {}

  // Learns a raw log line; a line that does not match the format is mined whole.
  uint64_t AddLine(std::string_view line) {
    std::string_view content = line;
    if (format_ && !format_->Extract(line, &content)) {
      content = line;
      ++unmatched_;
    }
    masker_.Mask(content, &scratch_);
    return miner_.Add(scratch_.tokens);
  }

  // Lines that did not match the header format so far.
  uint64_t unmatched() const { return unmatched_; }
  TemplateMiner& miner() { return miner_; }
  const TemplateMiner& miner() const { return miner_; }

 private:
  std::optional<LogFormat> format_;
  Masker masker_;
  TemplateMiner miner_;
  MaskedLine scratch_;
  uint64_t unmatched_ = 0;
};

}  // namespace clawback::learn
