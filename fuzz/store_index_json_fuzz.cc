// libFuzzer target: index file JSON (restic format spec §8), and the unpacked-file
// decoding that wraps it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "store/index/index_file.h"
#include "store/unpacked.h"

using namespace clawback::store;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto idx = IndexFile::Parse(in);
  if (idx.ok()) {
    // What we write must parse back to the same content.
    auto again = IndexFile::Parse(idx->ToJson());
    if (!again.ok() || again->blob_count() != idx->blob_count()) __builtin_trap();
  }
  static const Key key = Key::Random();
  (void)DecodeUnpacked(key, in);
  (void)DecodeUnpacked(key, Seal(key, in));
  return 0;
}
