// zstd as restic v2 uses it (restic format spec §12): plain frames, no dictionary, content
// checksum off. Readers accept frames without a content size, several concatenated frames
// and skippable frames.
//
// Thread-safety: safe from many threads (each thread reuses its own zstd contexts).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace clawback::store {

inline constexpr int kDefaultCompressionLevel = 3;

// Appends one zstd frame of `src` to *out.
void CompressAppend(std::string_view src, int level, std::string* out);

// Room CompressTo needs for `n` input bytes (ZSTD_compressBound).
size_t CompressBound(size_t n);
// Writes one zstd frame of `src` to out[0, capacity); returns its size.
// REQUIRES: capacity >= CompressBound(src.size()).
size_t CompressTo(std::string_view src, int level, char* out, size_t capacity);

// True when `src` looks like it would not shrink under zstd (random, encrypted or already
// compressed data), judged from a fast compression of samples spread over it (~6 % of a
// 1 MiB blob). Small inputs are never judged (false): compressing them whole is cheap.
bool LooksIncompressible(std::string_view src);

// Decompresses a blob payload that must yield exactly `expected_size` bytes (the index's
// uncompressed_length). Corruption otherwise.
Status DecompressExact(std::string_view src, size_t expected_size, std::string* out);

// Decompresses frames of unknown size (index, snapshot and lock files), refusing to produce
// more than `max_size` bytes (TooLarge).
Result<std::string> DecompressStream(std::string_view src, size_t max_size = size_t{1} << 30);

}  // namespace clawback::store
