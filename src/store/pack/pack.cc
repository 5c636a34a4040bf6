#include "store/pack/pack.h"

#include <algorithm>
#include <cstring>

#include "store/compression.h"

namespace clawback::store {
namespace {

void PutLE32(std::string* out, uint32_t v) {
  char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
  out->append(b, 4);
}

uint32_t GetLE32(const char* p) {
  auto u = [&](int i) { return static_cast<uint32_t>(static_cast<uint8_t>(p[i])); };
  return u(0) | u(1) << 8 | u(2) << 16 | u(3) << 24;
}

}  // namespace

std::string_view BlobTypeName(BlobType t) { return t == BlobType::kTree ? "tree" : "data"; }

size_t SealedBlobBound(size_t n) { return std::max(n, CompressBound(n)) + kCryptoOverhead; }

size_t SealBlobInto(const Key& key, std::string_view plaintext, BlobCompression mode, int level, char* out,
                    uint32_t* uncompressed_length) {
  auto* u = reinterpret_cast<uint8_t*>(out);
  const size_t n = plaintext.size();
  bool compress = mode != BlobCompression::kNone && n > 0;
  if (compress && mode == BlobCompression::kAuto && LooksIncompressible(plaintext)) compress = false;
  if (compress) {
    // Compressed straight behind the IV's room and sealed there: no second blob-sized
    // buffer per thread.
    size_t z = CompressTo(plaintext, level, out + kIvSize, CompressBound(n));
    if (mode == BlobCompression::kAlways || z < n) {
      SealTo(key, u + kIvSize, z, u);
      *uncompressed_length = static_cast<uint32_t>(n);
      return z + kCryptoOverhead;
    }
  }
  SealTo(key, reinterpret_cast<const uint8_t*>(plaintext.data()), n, u);
  *uncompressed_length = 0;
  return n + kCryptoOverhead;
}

uint32_t SealBlobAppend(const Key& key, std::string_view plaintext, bool compress, int level, std::string* out) {
  const size_t base = out->size();
  out->resize(base + SealedBlobBound(plaintext.size()));
  uint32_t ulen = 0;
  size_t n = SealBlobInto(key, plaintext, compress ? BlobCompression::kAlways : BlobCompression::kNone, level,
                          out->data() + base, &ulen);
  out->resize(base + n);
  return ulen;
}

Status DecodeBlob(const Key& key, const PackedBlob& blob, std::string_view stored, std::string* plaintext) {
  if (stored.size() != blob.length) {
    return Corruption("blob " + blob.id.ShortHex() + ": read " + std::to_string(stored.size()) + " bytes, want " +
                      std::to_string(blob.length));
  }
  if (blob.compressed()) {
    // A hostile index could claim any length; no real blob comes near this.
    if (blob.uncompressed_length > kMaxBlobPlaintextSize) {
      return Corruption("blob " + blob.id.ShortHex() + ": implausible uncompressed length " +
                        std::to_string(blob.uncompressed_length));
    }
    thread_local std::string scratch;
    Status st = OpenInto(key, stored, &scratch);
    if (!st.ok()) return Corruption("blob " + blob.id.ShortHex() + ": " + st.message());
    st = DecompressExact(scratch, blob.uncompressed_length, plaintext);
    if (scratch.capacity() > (size_t{32} << 20)) std::string().swap(scratch);
    if (!st.ok()) return Corruption("blob " + blob.id.ShortHex() + ": " + st.message());
  } else {
    Status st = OpenInto(key, stored, plaintext);
    if (!st.ok()) return Corruption("blob " + blob.id.ShortHex() + ": " + st.message());
  }
  if (Id::Hash(*plaintext) != blob.id) {
    return Corruption("blob " + blob.id.ShortHex() + ": content does not match its id (hash mismatch)");
  }
  return Status::Ok();
}

void PackWriter::Add(BlobType type, const Id& id, std::string_view stored, uint32_t uncompressed_length) {
  AddEntry(type, id, stored.size(), uncompressed_length);
  data_.append(stored);
}

void PackWriter::AddEntry(BlobType type, const Id& id, size_t stored_size, uint32_t uncompressed_length) {
  PackedBlob b;
  b.id = id;
  b.type = type;
  b.offset = static_cast<uint32_t>(size_);
  b.length = static_cast<uint32_t>(stored_size);
  b.uncompressed_length = uncompressed_length;
  size_ += stored_size;
  blobs_.push_back(b);
  header_size_ += uncompressed_length ? kPackHeaderCompressedEntrySize : kPackHeaderEntrySize;
}

size_t PackWriter::FinishedSize() const { return size_ + header_size_ + kCryptoOverhead + 4; }

std::string PackWriter::FinishHeader(const Key& key, std::vector<PackedBlob>* blobs, const uint8_t* header_iv) {
  CLAWBACK_CHECK(!blobs_.empty());
  std::string tail;
  SealAppend(key, EncodePackHeader(blobs_), &tail, header_iv);
  PutLE32(&tail, static_cast<uint32_t>(tail.size()));
  *blobs = std::move(blobs_);
  blobs_.clear();
  data_ = std::string();
  size_ = 0;
  header_size_ = 0;
  return tail;
}

PackWriter::Finished PackWriter::Finish(const Key& key, const uint8_t* header_iv) {
  CLAWBACK_CHECK(!blobs_.empty());
  Finished f;
  f.bytes = std::move(data_);
  f.bytes.append(FinishHeader(key, &f.blobs, header_iv));
  f.id = Id::Hash(f.bytes);
  return f;
}

std::string EncodePackHeader(const std::vector<PackedBlob>& blobs) {
  std::string h;
  h.reserve(blobs.size() * kPackHeaderCompressedEntrySize);
  for (const PackedBlob& b : blobs) {
    uint8_t t = static_cast<uint8_t>(b.type) + (b.compressed() ? 2 : 0);
    h.push_back(static_cast<char>(t));
    PutLE32(&h, b.length);
    if (b.compressed()) PutLE32(&h, b.uncompressed_length);
    h.append(reinterpret_cast<const char*>(b.id.data()), Id::kSize);
  }
  return h;
}

Result<std::vector<PackedBlob>> DecodePackHeader(std::string_view h) {
  std::vector<PackedBlob> blobs;
  uint64_t offset = 0;
  size_t pos = 0;
  while (pos < h.size()) {
    auto t = static_cast<uint8_t>(h[pos]);
    if (t > 3) return Corruption("pack header: unknown blob type " + std::to_string(t));
    bool compressed = t >= 2;
    size_t entry = compressed ? kPackHeaderCompressedEntrySize : kPackHeaderEntrySize;
    if (h.size() - pos < entry) return Corruption("pack header: truncated entry");
    PackedBlob b;
    b.type = static_cast<BlobType>(t & 1);
    b.length = GetLE32(h.data() + pos + 1);
    size_t id_pos = pos + 5;
    if (compressed) {
      b.uncompressed_length = GetLE32(h.data() + pos + 5);
      if (b.uncompressed_length == 0) return Corruption("pack header: compressed blob with length 0");
      id_pos += 4;
    }
    if (b.length < kCryptoOverhead) return Corruption("pack header: blob shorter than the crypto overhead");
    b.id = Id::FromBytes(h.data() + id_pos);
    if (offset + b.length > UINT32_MAX) return Corruption("pack header: pack larger than 4 GiB");
    b.offset = static_cast<uint32_t>(offset);
    offset += b.length;
    blobs.push_back(b);
    pos += entry;
  }
  return blobs;
}

Result<std::vector<PackedBlob>> ParsePackTail(const Key& key, std::string_view tail, uint64_t pack_size,
                                              size_t* need) {
  if (tail.size() < 4 || tail.size() > pack_size) return Corruption("pack: too short");
  uint32_t hl = GetLE32(tail.data() + tail.size() - 4);
  if (hl < kCryptoOverhead || hl > kMaxPackHeaderSize || uint64_t{hl} + 4 > pack_size) {
    return Corruption("pack: invalid header length " + std::to_string(hl));
  }
  if (size_t{hl} + 4 > tail.size()) {
    if (need != nullptr) *need = size_t{hl} + 4;
    return FailedPrecondition("pack: header needs " + std::to_string(hl + 4) + " tail bytes");
  }
  std::string header;
  Status st = OpenInto(key, tail.substr(tail.size() - 4 - hl, hl), &header);
  if (!st.ok()) return Corruption("pack header: " + st.message());
  ASSIGN_OR_RETURN(auto blobs, DecodePackHeader(header));
  if (blobs.empty()) return Corruption("pack: header lists no blobs");
  uint64_t data_end = uint64_t{blobs.back().offset} + blobs.back().length;
  if (data_end + hl + 4 != pack_size) {
    return Corruption("pack: size " + std::to_string(pack_size) + " does not match its header (" +
                      std::to_string(data_end + hl + 4) + ")");
  }
  return blobs;
}

Result<std::vector<PackedBlob>> ParsePack(const Key& key, std::string_view pack) {
  return ParsePackTail(key, pack, pack.size());
}

}  // namespace clawback::store
