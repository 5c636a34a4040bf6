#include "store/chunker/chunker.h"

#include <gtest/gtest.h>

#include <ctime>
#include <cstdio>
#include <string>

#include "store/id.h"

namespace clawback::store {
namespace {

constexpr uint64_t kPol = 0x3da3358b4dc173;

// The spec's LCG input generator (§18.6).
std::string Lcg(size_t n, uint64_t x) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    out[i] = static_cast<char>(x >> 56);
  }
  return out;
}

TEST(Polynomial, Irreducibility) {
  EXPECT_EQ(PolDegree(kPol), 53);
  EXPECT_TRUE(PolIrreducible(kPol));
  EXPECT_FALSE(PolIrreducible(0x3da3358b4dc171));
  EXPECT_FALSE(PolIrreducible((uint64_t{1} << 53) | 1));
  EXPECT_TRUE(PolIrreducible(0x2f74f843e57f9f));  // a polynomial restic chose
  // The spec's derivation example: i = 0 gives 0x25eb53a044f9bd (reducible), i = 6 gives
  // 0x2f752ed2e14815, the first irreducible one.
  EXPECT_FALSE(PolIrreducible(0x25eb53a044f9bd));
  EXPECT_TRUE(PolIrreducible(0x2f752ed2e14815));
}

TEST(Polynomial, RandomIsIrreducibleDegree53) {
  for (int i = 0; i < 3; ++i) {
    uint64_t p = RandomPolynomial();
    EXPECT_EQ(PolDegree(p), 53);
    EXPECT_TRUE(PolIrreducible(p));
  }
}

TEST(Chunker, LcgGeneratorMatchesSpec) {
  EXPECT_EQ(ToHex(Lcg(16, 1)), "6c82a562cb808d10d632be89c8513ebf");
}

struct Cut {
  size_t length;
  uint64_t digest;
  const char* id;
};

// Feeds `data` in pieces of `piece` bytes (0 = all at once) and checks every cut.
void CheckVector(const std::string& data, const std::vector<Cut>& want, size_t piece) {
  Chunker ch(kPol);
  size_t chunk_start = 0, pos = 0, k = 0;
  while (pos < data.size()) {
    size_t n = piece == 0 ? data.size() - pos : std::min(piece, data.size() - pos);
    bool cut = false;
    size_t used = ch.Next(reinterpret_cast<const uint8_t*>(data.data()) + pos, n, &cut);
    pos += used;
    if (cut) {
      ASSERT_LT(k, want.size());
      EXPECT_EQ(pos - chunk_start, want[k].length) << "chunk " << k << " piece " << piece;
      if (want[k].digest != 0 || k + 1 < want.size()) {
        EXPECT_EQ(ch.last_cut_digest(), want[k].digest) << "chunk " << k;
      }
      if (want[k].id) {
        EXPECT_EQ(Id::Hash(std::string_view(data).substr(chunk_start, pos - chunk_start)).Hex(), want[k].id);
      }
      chunk_start = pos;
      ++k;
    }
  }
  if (chunk_start < data.size()) {
    ASSERT_LT(k, want.size());
    EXPECT_EQ(data.size() - chunk_start, want[k].length);
    if (want[k].id) {
      EXPECT_EQ(Id::Hash(std::string_view(data).substr(chunk_start)).Hex(), want[k].id);
    }
    ++k;
  }
  EXPECT_EQ(k, want.size());
}

TEST(Chunker, Vector1Lcg) {
  std::string data = Lcg(12583689, 1);
  ASSERT_EQ(Id::Hash(data).Hex(), "dc4ab39e047c19187d5561580accec5c0341b0c0a555cc159b4354db69f8a1b3");
  std::vector<Cut> want = {
      {1016575, 0x17bb3576700000, "edc19709a754502e3e77cec4519a02822be58b8020b932ee5e00cb14ecacad1d"},
      {1222965, 0x134f259f00000, "73e96861b0f5237b1b59900b92c3608efd2c35e7c18cf7d8f1478265270e02c5"},
      {874674, 0x19076ea6900000, "40ba7af945fa794817e14d3703e5b34f93ab331de5977877e7d65569056633c8"},
      {1582069, 0x272d671100000, "8cb4a72dedd6958312e11f933ea5e413ba8461e59652e68c6c64f6c3049bfb37"},
      {1131085, 0x1ee9e6eb000000, "09e9427dd051d2d3599108d35fa9c04931693641160b2d9db45d35221fc69b16"},
      {575402, 0x1be75923b00000, "083f4716a9630b57e3058227d985ee755375d0e7111c5bfa7cd75cbb90394758"},
      {858472, 0xc9c0dcfc00000, "724ee2f50a2c764c4063d822ea07583728dc2f6064327740e8d1ed25721fcbeb"},
      {1310917, 0x90675db200000, "48cfb351c0432f4bfd67e0ffe2948185e019d0ae4d22a45c2ca09127336faff9"},
      {551259, 0x11272faec00000, "9b4b1c5d9584c20f7c6d8f2a01688246eb367913535759bb348b569afa0c44b3"},
      {536221, 0x1ff99dc9800000, "f3617d2c42d6fcd7740a5af19b7d0cd0d504be43d4603cbe019806f8e6893ae5"},
      {2924050, 0, "6bdf3c645c41627e9a72c307aa578dfedb3eb522cdc8fc506dbc8237fe8f5615"},
  };
  // Whole buffer, odd small pieces (window state crosses calls), and 1 MiB reads.
  CheckVector(data, want, 0);
  CheckVector(data, want, 1 << 20);
  CheckVector(data, want, 4099);
  CheckVector(data, want, 7);
}

TEST(Chunker, Vector2MaxSizeCuts) {
  std::string data(20 * 1024 * 1024, 'a');
  CheckVector(data, {{8388608, 0x1927d27e26947a, nullptr}, {8388608, 0x1927d27e26947a, nullptr}, {4194304, 0, nullptr}},
              0);
  CheckVector(data, {{8388608, 0x1927d27e26947a, nullptr}, {8388608, 0x1927d27e26947a, nullptr}, {4194304, 0, nullptr}},
              65536);
}

TEST(Chunker, Vector3ZerosCutAtMinimum) {
  std::string data(1572964, '\0');
  EXPECT_EQ(ChunkLengths(kPol, data), (std::vector<size_t>{524288, 524288, 524288, 100}));
}

TEST(Chunker, SmallAndEmptyInputs) {
  EXPECT_TRUE(ChunkLengths(kPol, "").empty());
  EXPECT_EQ(ChunkLengths(kPol, std::string(524289, 'x')), std::vector<size_t>{524289});
  EXPECT_EQ(ChunkLengths(kPol, "tiny"), std::vector<size_t>{4});
}

// Next() hashes long ranges as kStreams interleaved streams; feeding the same data in pieces
// around the round size (and byte-sized ones, which never take it) must cut identically, so
// a cut found by any of the streams (and shifted to another by the piece sizes) is the same.
TEST(Chunker, MultiStreamCutsMatchPiecewiseFeeding) {
  std::string data = Lcg(24 << 20, 3);
  auto cuts = [&](std::vector<size_t> pieces) {
    Chunker ch(kPol);
    std::vector<std::pair<size_t, uint64_t>> out;
    size_t pos = 0, k = 0;
    while (pos < data.size()) {
      size_t n = std::min(pieces[k++ % pieces.size()], data.size() - pos);
      bool cut = false;
      pos += ch.Next(reinterpret_cast<const uint8_t*>(data.data()) + pos, n, &cut);
      if (cut) out.emplace_back(pos, ch.last_cut_digest());
    }
    return out;
  };
  auto whole = cuts({data.size()});
  EXPECT_GE(whole.size(), 8u);
  EXPECT_EQ(cuts({97}), whole);
  const size_t b = Chunker::kStreams * Chunker::kStreamBlock;
  EXPECT_EQ(cuts({b - 1, b, b + 1, 3 * b + 5}), whole);
  EXPECT_EQ(cuts({Chunker::kStreamBlock + 3, 2 * Chunker::kStreamBlock - 7}), whole);
  EXPECT_EQ(cuts({1 << 20, 4099, 300000, 129}), whole);
}

TEST(Chunker, Throughput) {
  std::string data = Lcg(64 << 20, 7);
  // Thread CPU time, so a loaded machine does not distort the figure.
  auto cpu = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
  };
  double start = cpu();
  auto lengths = ChunkLengths(kPol, data);
  double s = cpu() - start;
  size_t total = 0;
  for (size_t l : lengths) total += l;
  EXPECT_EQ(total, data.size());
  std::printf("chunker: %.0f MB per CPU-second (%zu chunks)\n", data.size() / s / 1e6, lengths.size());
}

}  // namespace
}  // namespace clawback::store
