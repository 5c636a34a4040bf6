// The template miner's state on disk: one JSON file (TemplateMiner::ToJson), written
// atomically (temporary file, fsync, rename), so template ids stay stable across runs.
// The default place is `<data dir>/learn/templates.json`.
#pragma once

#include <string>

#include "common/status.h"
#include "learn/templates/miner.h"

namespace clawback::learn {

// `<data_dir>/learn/templates.json`
std::string DefaultTemplateStatePath(const std::string& data_dir);

// A miner from `path`; a fresh miner when the file does not exist. Corruption names the file
// when it is not a valid state.
Result<TemplateMiner> LoadTemplateState(const std::string& path, const MinerOptions& options);

// Writes the miner to `path`, creating its directory.
Status SaveTemplateState(const std::string& path, const TemplateMiner& miner);

}  // namespace clawback::learn
