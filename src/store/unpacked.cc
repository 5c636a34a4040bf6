#include "store/unpacked.h"

#include "store/compression.h"

namespace clawback::store {

std::string EncodeUnpacked(const Key& key, std::string_view json, bool compress, int level) {
  if (!compress) return Seal(key, json);
  std::string q;
  q.push_back('\x02');
  CompressAppend(json, level, &q);
  return Seal(key, q);
}

Result<std::string> DecodeUnpacked(const Key& key, std::string_view file) {
  std::string q;
  RETURN_IF_ERROR(OpenInto(key, file, &q));
  if (q.empty()) return Corruption("empty unpacked file");
  if (q[0] == '{' || q[0] == '[') return q;
  if (q[0] != '\x02') {
    return Corruption("not supported encoding format " + std::to_string(static_cast<uint8_t>(q[0])));
  }
  return DecompressStream(std::string_view(q).substr(1));
}

}  // namespace clawback::store
