// Helpers shared by the ingest tests.
#pragma once

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace clawback::record::testing {

// The real OpenClaw 2026.9.6 hook events (captured from a gateway; see
// ../shared/docs/openclaw-e2e.md), one JSON object per line.
inline std::vector<nlohmann::json> LoadOpenClawFixture() {
  std::string dir = std::getenv("CLAWBACK_SOURCE_DIR") ? std::getenv("CLAWBACK_SOURCE_DIR") : ".";
  std::ifstream in(dir + "/src/record/testdata/hooks-openclaw-2026.9.6.jsonl");
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace clawback::record::testing
