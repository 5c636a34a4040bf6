#include "store/pack/pack.h"

#include <gtest/gtest.h>

#include "store/compression.h"

namespace clawback::store {
namespace {

std::string Range(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) s.push_back(static_cast<char>(i));
  return s;
}
Key VectorKey() { return Key::FromParts(Range(0x00, 0x20), Range(0x20, 0x30), Range(0x30, 0x40)); }
std::string Iv(uint8_t b) { return std::string(16, static_cast<char>(b)); }
const uint8_t* U(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

constexpr char kPackHex[] =
    "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1c54a3b65d32da80574e5afccbf2fe525804d1af0699a4242d15ca3cfcca2a2a2a2a2a2a2a2a2a2"
    "a2a2a2a2a2a243af700b1806fa459441a6c8667e6f7fbb2cad64245e265dac2c033d23f915156ea3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3"
    "35db3c9350e341c49106f445f70eee879d324897f49d70122ad2973ae1d5d8c4a488fbd39c359de348aa2f5c0f22271ccf32ac07580517"
    "fe99d65c47e07e6dfb868bee0426c0543eff04371b1efd60aab90c35ae6494e0d64dd6a12bce496e000000";

// §18.4: the pack built with fixed IVs, byte for byte.
TEST(Pack, SpecVectorByteForByte) {
  Key key = VectorKey();
  std::string hello = "hello restic\n";
  std::string aaaa(100, 'a');
  std::string frame = FromHex("28b52ffd005845000010616101003f012c").value();
  PackWriter w;
  std::string e1 = Seal(key, hello, U(Iv(0xa1)));
  std::string e2 = Seal(key, frame, U(Iv(0xa2)));
  w.Add(BlobType::kData, Id::Hash(hello), e1, 0);
  w.Add(BlobType::kData, Id::Hash(aaaa), e2, 100);
  EXPECT_EQ(w.FinishedSize(), 208u);
  EXPECT_EQ(ToHex(EncodePackHeader(w.blobs())),
            "002d000000fbbd69198637d5360353c39796181175de6311c2a61abe2fe6392c938018660f0231000000640000002816597888e4a0d3a3"
            "6b82b83316ab32680eb8f00f8cd3b904d681246d285a0e");
  auto f = w.Finish(key, U(Iv(0xa3)));
  EXPECT_EQ(ToHex(f.bytes), kPackHex);
  EXPECT_EQ(f.id.Hex(), "b299627b93be10ea70ff4c0edd6c5d7f46d28e22c5cd503c8c33c06cb4bcda4b");
  EXPECT_TRUE(w.empty());
}

TEST(Pack, ParsesSpecVectorAndDecodesBlobs) {
  Key key = VectorKey();
  std::string pack = FromHex(kPackHex).value();
  auto blobs = ParsePack(key, pack);
  ASSERT_TRUE(blobs.ok()) << blobs.status().ToString();
  ASSERT_EQ(blobs->size(), 2u);
  EXPECT_EQ((*blobs)[0].offset, 0u);
  EXPECT_EQ((*blobs)[0].length, 45u);
  EXPECT_FALSE((*blobs)[0].compressed());
  EXPECT_EQ((*blobs)[0].PlaintextSize(), 13u);
  EXPECT_EQ((*blobs)[1].offset, 45u);
  EXPECT_EQ((*blobs)[1].length, 49u);
  EXPECT_EQ((*blobs)[1].uncompressed_length, 100u);
  std::string out;
  ASSERT_TRUE(DecodeBlob(key, (*blobs)[0], std::string_view(pack).substr(0, 45), &out).ok());
  EXPECT_EQ(out, "hello restic\n");
  ASSERT_TRUE(DecodeBlob(key, (*blobs)[1], std::string_view(pack).substr(45, 49), &out).ok());
  EXPECT_EQ(out, std::string(100, 'a'));
  // A wrong id is caught by the hash check.
  PackedBlob wrong = (*blobs)[0];
  wrong.id = Id::Hash("other");
  EXPECT_EQ(DecodeBlob(key, wrong, std::string_view(pack).substr(0, 45), &out).code(), StatusCode::kCorruption);
}

TEST(Pack, TailParsingAsksForMoreBytes) {
  Key key = VectorKey();
  std::string pack = FromHex(kPackHex).value();
  size_t need = 0;
  auto r = ParsePackTail(key, std::string_view(pack).substr(pack.size() - 20), pack.size(), &need);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(need, 114u);
  EXPECT_TRUE(ParsePackTail(key, std::string_view(pack).substr(pack.size() - need), pack.size()).ok());
}

TEST(Pack, RejectsDamage) {
  Key key = VectorKey();
  std::string pack = FromHex(kPackHex).value();
  EXPECT_FALSE(ParsePack(key, "").ok());
  EXPECT_FALSE(ParsePack(key, "abc").ok());
  std::string bad = pack;
  bad[150] ^= 1;  // inside the encrypted header
  EXPECT_EQ(ParsePack(key, bad).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ParsePack(key, "x" + pack).status().code(), StatusCode::kCorruption);  // size mismatch
  bad = pack;
  bad[pack.size() - 1] = 1;  // header length far too big
  EXPECT_EQ(ParsePack(key, bad).status().code(), StatusCode::kCorruption);
  EXPECT_FALSE(ParsePack(Key::Random(), pack).ok());
  EXPECT_FALSE(DecodePackHeader("\x07").ok());
  PackedBlob huge{Id::Hash("x"), BlobType::kData, 0, 49, 0xffffffffu};
  std::string out;
  EXPECT_EQ(DecodeBlob(key, huge, std::string_view(pack).substr(45, 49), &out).code(), StatusCode::kCorruption);
  EXPECT_FALSE(DecodePackHeader(std::string(36, '\0')).ok());
}

TEST(Pack, RoundTripWithCompressedAndTreeBlobs) {
  Key key = Key::Random();
  PackWriter w;
  std::vector<std::string> contents = {std::string(5000, 'x'), "tiny", std::string(70000, 'q') + "end"};
  for (size_t i = 0; i < contents.size(); ++i) {
    std::string stored;
    uint32_t ulen = SealBlobAppend(key, contents[i], i != 1, 3, &stored);
    EXPECT_EQ(ulen, i != 1 ? contents[i].size() : 0u);
    w.Add(i == 2 ? BlobType::kTree : BlobType::kData, Id::Hash(contents[i]), stored, ulen);
  }
  auto f = w.Finish(key);
  EXPECT_EQ(f.bytes.size(), f.blobs.back().offset + f.blobs.back().length + 32 + 37 + 41 * 2 + 4);
  auto parsed = ParsePack(key, f.bytes);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(*parsed, f.blobs);
  for (size_t i = 0; i < contents.size(); ++i) {
    std::string out;
    const PackedBlob& b = (*parsed)[i];
    ASSERT_TRUE(DecodeBlob(key, b, std::string_view(f.bytes).substr(b.offset, b.length), &out).ok());
    EXPECT_EQ(out, contents[i]);
  }
  EXPECT_EQ((*parsed)[2].type, BlobType::kTree);
}

// kAuto stores what zstd cannot shrink raw (type 0): random data (judged from samples, or
// small enough to try whole) and the empty blob; text and half-random blobs are compressed.
TEST(Pack, AutoCompressionStoresIncompressibleBlobsRaw) {
  Key key = Key::Random();
  std::string random(1 << 20, '\0');
  RandomBytes(random.data(), random.size());
  std::string text;
  for (int i = 0; text.size() < (1 << 20); ++i) text += "2026-11-27 level=INFO request " + std::to_string(i) + " done\n";
  std::string half = random.substr(0, 300000) + text.substr(0, 700000);
  struct Case {
    std::string data;
    bool compressed;
  } cases[] = {{random, false}, {random.substr(0, 5000), false}, {"", false},
               {text, true},    {text.substr(0, 5000), true},     {half, true}};
  for (const Case& c : cases) {
    std::string stored(SealedBlobBound(c.data.size()), '\0');
    uint32_t ulen = 7;
    size_t n = SealBlobInto(key, c.data, BlobCompression::kAuto, 3, stored.data(), &ulen);
    stored.resize(n);
    EXPECT_EQ(ulen, c.compressed ? c.data.size() : 0u) << c.data.size();
    if (!c.compressed) {
      EXPECT_EQ(n, c.data.size() + kCryptoOverhead);
    }
    EXPECT_EQ(LooksIncompressible(c.data), !c.compressed && c.data.size() > 100000);
    PackedBlob b;
    b.id = Id::Hash(c.data);
    b.length = static_cast<uint32_t>(n);
    b.uncompressed_length = ulen;
    std::string out;
    ASSERT_TRUE(DecodeBlob(key, b, stored, &out).ok());
    EXPECT_EQ(out, c.data);
  }
  // kAlways compresses even random data (trees must always be compressed).
  std::string stored(SealedBlobBound(random.size()), '\0');
  uint32_t ulen = 0;
  SealBlobInto(key, random, BlobCompression::kAlways, 3, stored.data(), &ulen);
  EXPECT_EQ(ulen, random.size());
}

TEST(Compression, ExactAndStream) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "line " + std::to_string(i) + " of a log\n";
  std::string z;
  CompressAppend(text, 3, &z);
  EXPECT_LT(z.size(), text.size());
  std::string out;
  ASSERT_TRUE(DecompressExact(z, text.size(), &out).ok());
  EXPECT_EQ(out, text);
  EXPECT_EQ(DecompressExact(z, text.size() - 1, &out).code(), StatusCode::kCorruption);
  EXPECT_EQ(DecompressExact(z, text.size() + 1, &out).code(), StatusCode::kCorruption);
  EXPECT_EQ(DecompressStream(z).value(), text);
  // Two concatenated frames, and the frame restic-style (no content size) from the spec.
  std::string two = z + z;
  EXPECT_EQ(DecompressStream(two).value(), text + text);
  ASSERT_TRUE(DecompressExact(two, text.size() * 2, &out).ok());
  std::string frame = FromHex("28b52ffd005845000010616101003f012c").value();
  EXPECT_EQ(DecompressStream(frame).value(), std::string(100, 'a'));
  EXPECT_FALSE(DecompressStream("garbage").ok());
  EXPECT_FALSE(DecompressStream(z.substr(0, z.size() - 3)).ok());
  EXPECT_EQ(DecompressStream(z, 100).status().code(), StatusCode::kTooLarge);
}

}  // namespace
}  // namespace clawback::store
