#include "store/crypto/sha256_pair.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace clawback::store {
namespace {

std::string Hex(const uint8_t* d) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) {
    s.push_back(digits[d[i] >> 4]);
    s.push_back(digits[d[i] & 15]);
  }
  return s;
}

std::string Reference(std::string_view data) {
  uint8_t out[32];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr), 1);
  return Hex(out);
}

std::pair<std::string, std::string> Pair(std::string_view a, std::string_view b) {
  uint8_t x[32], y[32];
  Sha256Pair(a, b, x, y);
  return {Hex(x), Hex(y)};
}

TEST(Sha256Pair, PublishedVectors) {
  // FIPS 180-4 examples (NIST CSRC "SHA256.pdf"): "abc", the 448-bit message, and "".
  auto [abc, two_blocks] = Pair("abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  EXPECT_EQ(abc, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(two_blocks, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  auto [empty, abc2] = Pair("", "abc");
  EXPECT_EQ(empty, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(abc2, abc);
  std::printf("Sha256Pair: %s\n", Sha256PairAccelerated() ? "SHA extensions, interleaved" : "OpenSSL");
}

// Every length around the padding boundaries, against OpenSSL, in both argument orders
// and with the other message shorter, equal and longer.
TEST(Sha256Pair, MatchesOpenSslAtEveryBoundary) {
  std::mt19937_64 rng(42);
  std::string data(4096, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  const std::vector<size_t> lengths = {0, 1, 54, 55, 56, 57, 63, 64, 65, 118, 119, 120, 127, 128, 129, 191, 192, 1000, 4096};
  for (size_t la : lengths) {
    for (size_t lb : lengths) {
      std::string_view a(data.data(), la), b(data.data() + 7, std::min(lb, data.size() - 7));
      auto [x, y] = Pair(a, b);
      ASSERT_EQ(x, Reference(a)) << la << " " << lb;
      ASSERT_EQ(y, Reference(b)) << la << " " << lb;
    }
  }
}

TEST(Sha256Pair, MatchesOpenSslOnLargeRandomPairs) {
  std::mt19937_64 rng(7);
  std::string data(9 << 20, '\0');
  for (size_t i = 0; i + 8 <= data.size(); i += 8) {
    uint64_t v = rng();
    std::memcpy(&data[i], &v, 8);
  }
  for (int round = 0; round < 12; ++round) {
    size_t la = rng() % (4 << 20), lb = rng() % (4 << 20);
    size_t oa = rng() % 1000, ob = (4 << 20) + rng() % 1000;  // unaligned starts
    std::string_view a(data.data() + oa, la), b(data.data() + ob, lb);
    auto [x, y] = Pair(a, b);
    EXPECT_EQ(x, Reference(a)) << la;
    EXPECT_EQ(y, Reference(b)) << lb;
    uint8_t px[32], py[32];
    Sha256PairPortable(a, b, px, py);
    EXPECT_EQ(Hex(px), x);
    EXPECT_EQ(Hex(py), y);
  }
}

}  // namespace
}  // namespace clawback::store
