// libFuzzer target: tree blob JSON and node decoding (restic format spec §10), including
// Go name unquoting, timestamps and base64 fields.
#include <cstddef>
#include <cstdint>
#include <string>

#include "store/tree.h"

using namespace clawback::store;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto tree = Tree::Parse(in);
  if (tree.ok()) {
    // Encoding is deterministic, and what we encode parses again.
    std::string json = tree->ToJson();
    auto again = Tree::Parse(json);
    if (!again.ok() || again->nodes.size() != tree->nodes.size()) __builtin_trap();
    if (again->ToJson() != json) __builtin_trap();
  }
  // Name quoting must invert for any bytes.
  auto back = GoUnquoteInner(GoQuoteInner(in));
  if (!back.ok() || *back != in) __builtin_trap();
  return 0;
}
