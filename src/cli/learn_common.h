// What the learning commands (`deploy`, `recommend`, `learn ingest`) share: opening the data
// dir's ledger with a LearnEngine over it, reading log files, and printing a
// Recommendation for people.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "learn/engine.h"
#include "ledger/ledger.h"

namespace clawback::cli {

struct LearnSession {
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<learn::LearnEngine> engine;
};

// The data dir's ledger (migrated) and learn engine ([learn] from config.toml).
Result<LearnSession> OpenLearnSession(const Cli& cli);

// A whole file ("-" is stdin).
Result<std::string> ReadAll(const std::string& path);
// A file's lines ("-" is stdin); a trailing empty line is dropped.
Result<std::vector<std::string>> ReadLines(const std::string& path);

// The human form of a recommendation (its ToJson() document, local or from a server) on stdout.
void PrintRecommendation(const nlohmann::json& rec);

}  // namespace clawback::cli
