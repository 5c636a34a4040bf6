// libFuzzer target: snapshot JSON (restic format spec §9) and RFC 3339 timestamps.
#include <cstddef>
#include <cstdint>
#include <string>

#include "store/snapshot.h"

using namespace clawback::store;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto snap = Snapshot::Parse(in);
  if (snap.ok()) {
    auto again = Snapshot::Parse(snap->ToJson());
    if (!again.ok() || again->tree != snap->tree || again->tags != snap->tags) __builtin_trap();
  }
  (void)Timestamp::Parse(in);
  return 0;
}
