// libFuzzer target: pack headers (restic format spec §7). The input is used three ways:
// as a plaintext header, as a sealed header at the end of a pack (so the MAC check passes
// and the entry and size logic is reached), and as raw untrusted pack bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "store/pack/pack.h"

using namespace clawback::store;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Key key = Key::Random();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto blobs = DecodePackHeader(in);
  if (blobs.ok()) {
    // A header that decodes must re-encode to the same bytes.
    if (EncodePackHeader(*blobs) != in) __builtin_trap();
  }
  // body = first half of the input, header = the rest, sealed with the right key.
  std::string pack(in.substr(0, size / 2));
  std::string sealed = Seal(key, in.substr(size / 2));
  pack += sealed;
  uint32_t hl = static_cast<uint32_t>(sealed.size());
  pack.append(reinterpret_cast<const char*>(&hl), 4);
  auto parsed = ParsePack(key, pack);
  if (parsed.ok()) {
    uint64_t end = 0;
    for (const auto& b : *parsed) end = uint64_t{b.offset} + b.length;
    if (end + hl + 4 != pack.size()) __builtin_trap();
  }
  size_t need = 0;
  (void)ParsePackTail(key, in, size, &need);
  return 0;
}
