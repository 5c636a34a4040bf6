#include "store/compression.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>

namespace clawback::store {
namespace {

struct ZstdContexts {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
  ZSTD_CCtx* probe = nullptr;  // LooksIncompressible's, created on first use
  int level = -1000;
  ~ZstdContexts() {
    ZSTD_freeCCtx(c);
    ZSTD_freeDCtx(d);
    ZSTD_freeCCtx(probe);
  }
};
ZstdContexts& Contexts() {
  thread_local ZstdContexts ctx;
  CLAWBACK_CHECK(ctx.c != nullptr && ctx.d != nullptr);
  return ctx;
}

}  // namespace

void CompressAppend(std::string_view src, int level, std::string* out) {
  size_t base = out->size();
  size_t bound = ZSTD_compressBound(src.size());
  out->resize(base + bound);
  out->resize(base + CompressTo(src, level, out->data() + base, bound));
}

size_t CompressBound(size_t n) { return ZSTD_compressBound(n); }

size_t CompressTo(std::string_view src, int level, char* out, size_t capacity) {
  ZstdContexts& ctx = Contexts();
  if (ctx.level != level) {
    ZSTD_CCtx_reset(ctx.c, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(ctx.c, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(ctx.c, ZSTD_c_checksumFlag, 0);
    ctx.level = level;
  }
  size_t n = ZSTD_compress2(ctx.c, out, capacity, src.data(), src.size());
  CLAWBACK_CHECK(!ZSTD_isError(n));
  return n;
}

bool LooksIncompressible(std::string_view src) {
  // kSamples pieces of kPiece bytes, evenly spread (first and last included), compressed
  // together at level 1. Random data comes out at ~100.05 %; text at 20-40 %; binaries and
  // base64 at 60-90 %. Only a sample that saves less than 1/32 counts as incompressible,
  // and a blob that zstd still cannot shrink is stored raw by the caller anyway.
  constexpr size_t kPiece = 8 * 1024;
  constexpr size_t kSamples = 8;
  constexpr size_t kSampleSize = kPiece * kSamples;
  if (src.size() < 2 * kSampleSize) return false;
  ZstdContexts& ctx = Contexts();
  if (ctx.probe == nullptr) {
    ctx.probe = ZSTD_createCCtx();
    CLAWBACK_CHECK(ctx.probe != nullptr);
    ZSTD_CCtx_setParameter(ctx.probe, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(ctx.probe, ZSTD_c_checksumFlag, 0);
    ZSTD_CCtx_setParameter(ctx.probe, ZSTD_c_contentSizeFlag, 0);
  }
  thread_local char sample[kSampleSize];
  thread_local char compressed[ZSTD_COMPRESSBOUND(kSampleSize)];
  const size_t stride = (src.size() - kPiece) / (kSamples - 1);
  for (size_t i = 0; i < kSamples; ++i) {
    std::memcpy(sample + i * kPiece, src.data() + i * stride, kPiece);
  }
  size_t n = ZSTD_compress2(ctx.probe, compressed, sizeof compressed, sample, kSampleSize);
  CLAWBACK_CHECK(!ZSTD_isError(n));
  return n > kSampleSize - kSampleSize / 32;
}

Status DecompressExact(std::string_view src, size_t expected_size, std::string* out) {
  ZSTD_DCtx* d = Contexts().d;
  ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
  out->resize(expected_size);
  ZSTD_inBuffer in{src.data(), src.size(), 0};
  ZSTD_outBuffer ob{out->data(), out->size(), 0};
  while (true) {
    size_t ret = ZSTD_decompressStream(d, &ob, &in);
    if (ZSTD_isError(ret)) return Corruption(std::string("zstd: ") + ZSTD_getErrorName(ret));
    if (in.pos == in.size && ret == 0) break;  // all frames done
    if (ob.pos == ob.size) {
      // Output full: anything left must not produce more bytes.
      char extra;
      ZSTD_outBuffer probe{&extra, 1, 0};
      size_t r2 = ZSTD_decompressStream(d, &probe, &in);
      if (ZSTD_isError(r2)) return Corruption(std::string("zstd: ") + ZSTD_getErrorName(r2));
      if (probe.pos != 0) return Corruption("zstd: blob decompresses to more than its recorded length");
      if (in.pos == in.size && r2 == 0) break;
      if (in.pos == in.size) return Corruption("zstd: truncated frame");
      continue;
    }
    if (in.pos == in.size) return Corruption("zstd: truncated frame");
  }
  if (ob.pos != expected_size) {
    return Corruption("zstd: blob decompresses to " + std::to_string(ob.pos) + " bytes, want " +
                      std::to_string(expected_size));
  }
  return Status::Ok();
}

Result<std::string> DecompressStream(std::string_view src, size_t max_size) {
  ZSTD_DCtx* d = Contexts().d;
  ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
  std::string out;
  out.resize(std::min<size_t>(std::max<size_t>(src.size() * 4, 4096), max_size));
  ZSTD_inBuffer in{src.data(), src.size(), 0};
  size_t produced = 0;
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= max_size) return TooLarge("decompressed file exceeds " + std::to_string(max_size) + " bytes");
      out.resize(std::min(out.size() * 2, max_size));
    }
    ZSTD_outBuffer ob{out.data() + produced, out.size() - produced, 0};
    size_t ret = ZSTD_decompressStream(d, &ob, &in);
    if (ZSTD_isError(ret)) return Corruption(std::string("zstd: ") + ZSTD_getErrorName(ret));
    produced += ob.pos;
    if (ret == 0 && in.pos == in.size) break;
    if (in.pos == in.size && ob.pos < ob.size) return Corruption("zstd: truncated frame");
  }
  out.resize(produced);
  return out;
}

}  // namespace clawback::store
