#include "store/crypto/crypto.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "store/crypto/key_file.h"
#include "store/crypto/scrypt.h"
#include "store/id.h"

namespace clawback::store {
namespace {

std::string Bytes(std::string_view hex) { return FromHex(hex).value(); }
std::string Range(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) s.push_back(static_cast<char>(i));
  return s;
}
Key VectorKey() { return Key::FromParts(Range(0x00, 0x20), Range(0x20, 0x30), Range(0x30, 0x40)); }

TEST(Crypto, ClampsMacR) {
  EXPECT_EQ(ToHex(std::string(reinterpret_cast<const char*>(VectorKey().mac_r.data()), 16)),
            "303132033435360738393a0b3c3d3e0f");
}

TEST(Crypto, SealVectorHelloRestic) {
  std::string iv = Range(0x40, 0x50);
  std::string out = Seal(VectorKey(), "hello restic\n", reinterpret_cast<const uint8_t*>(iv.data()));
  EXPECT_EQ(ToHex(out),
            "404142434445464748494a4b4c4d4e4f"
            "cb1bb353f87ac88ae00f0ba487"
            "0ce0e35a326c1b8a88e5a479b5dcc959");
  EXPECT_EQ(Open(VectorKey(), out).value(), "hello restic\n");
}

TEST(Crypto, SealInPlaceMatchesSeal) {
  std::string iv = Range(0x40, 0x50);
  const auto* ivp = reinterpret_cast<const uint8_t*>(iv.data());
  for (std::string plain : {std::string(), std::string("hello restic\n"), Range(0, 256) + Range(0, 200)}) {
    std::string buf = "prefix" + std::string(kIvSize, '?') + plain;
    SealInPlace(VectorKey(), &buf, 6, ivp);
    EXPECT_EQ(buf, "prefix" + Seal(VectorKey(), plain, ivp));
    std::string fresh = std::string(kIvSize, '?') + plain;
    SealInPlace(VectorKey(), &fresh, 0);  // random IV
    EXPECT_EQ(Open(VectorKey(), fresh).value(), plain);
  }
}

TEST(Crypto, SealEmptyPlaintextTagIsS) {
  std::string iv = Range(0x40, 0x50);
  std::string out = Seal(VectorKey(), "", reinterpret_cast<const uint8_t*>(iv.data()));
  EXPECT_EQ(ToHex(out), "404142434445464748494a4b4c4d4e4f859469c07743c7e45b318d151d3d87e9");
  EXPECT_EQ(Open(VectorKey(), out).value(), "");
}

TEST(Crypto, CounterWrapsModulo2To128) {
  std::string iv(16, '\xff');
  std::string out = Seal(VectorKey(), Range(0x60, 0x88), reinterpret_cast<const uint8_t*>(iv.data()));
  EXPECT_EQ(ToHex(out),
            "ffffffffffffffffffffffffffffffff89f8867e28c216bd3bee7b1031e2398182e172c55e3ce9a7d18ae011a15309ff70dcf42dce3c"
            "1962cb593142efcc48edb62c697b91265b24");
}

TEST(Crypto, OpenRejectsTamperingShortInputAndZeroIv) {
  Key k = Key::Random();
  std::string sealed = Seal(k, "some plaintext that is longer than a block");
  for (size_t i : {size_t{0}, size_t{20}, sealed.size() - 1}) {
    std::string bad = sealed;
    bad[i] ^= 1;
    auto r = Open(k, bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_NE(r.status().message().find("ciphertext verification failed"), std::string::npos);
  }
  EXPECT_FALSE(Open(k, std::string(31, 'x')).ok());
  std::string zero_iv(16, '\0');
  EXPECT_FALSE(Open(k, Seal(k, "x", reinterpret_cast<const uint8_t*>(zero_iv.data()))).ok());
  EXPECT_FALSE(Open(Key::Random(), sealed).ok());
}

TEST(Crypto, RandomSealsDifferAndRoundTrip) {
  Key k = Key::Random();
  std::string big(1 << 20, 'z');
  std::string a = Seal(k, big), b = Seal(k, big);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), big.size() + kCryptoOverhead);
  EXPECT_EQ(Open(k, a).value(), big);
}

TEST(Crypto, MasterKeyJsonRoundTrip) {
  Key k = Key::Random();
  auto back = Key::FromJson(k.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->encrypt, k.encrypt);
  EXPECT_EQ(back->mac_k, k.mac_k);
  EXPECT_EQ(back->mac_r, k.mac_r);
  EXPECT_FALSE(Key::FromJson("{}").ok());
  EXPECT_FALSE(Key::FromJson("not json").ok());
  EXPECT_FALSE(Key::FromJson(R"({"mac":{"k":"AAAA","r":"AAAA"},"encrypt":"AAAA"})").ok());
}

TEST(Scrypt, Rfc7914Vector) {
  auto dk = Scrypt("password", "NaCl", 1024, 8, 16);
  ASSERT_TRUE(dk.ok());
  EXPECT_EQ(ToHex(std::string(reinterpret_cast<const char*>(dk->data()), 64)),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a8"
            "3ee6d8360cbdfa2cc0640");
}

TEST(Scrypt, ResticShapedVectorAndKeySplit) {
  auto dk = Scrypt("correct horse battery staple", Range(0, 64), 16384, 8, 1);
  ASSERT_TRUE(dk.ok());
  EXPECT_EQ(ToHex(std::string(reinterpret_cast<const char*>(dk->data()), 64)),
            "a0a56744cb4bc90c24a0992f7a28868d29d0c790698e0ff838c9c2b467a340420304d589cc37847e190e3eae5f7dc124fd5020bc9d1"
            "055acb6933b6700c034f5");
  Key user = KeyFromScrypt(*dk);
  EXPECT_EQ(ToHex(std::string(reinterpret_cast<const char*>(user.mac_r.data()), 16)),
            "fd50200c9c10550cb4933b0700c03405");
}

// The lane-parallel derivation (scrypt.h) against OpenSSL's sequential one, for any thread
// count and table stride: the same bytes, or keys would not open.
TEST(Scrypt, ParallelLanesMatchOpenSsl) {
  struct Case {
    uint64_t n;
    uint32_t r, p;
    int threads;
    uint32_t stride;
  };
  const Case cases[] = {{2, 1, 1, 1, 1},     {16, 1, 3, 2, 2},   {1024, 8, 5, 2, 2}, {1024, 8, 5, 3, 3},
                        {1024, 3, 4, 4, 4},  {256, 8, 7, 0, 2},  {4096, 8, 2, 8, 2}, {512, 2, 1, 2, 5}};
  for (const Case& c : cases) {
    const std::string salt = Range(3, 67);
    std::array<uint8_t, 64> want{}, got{};
    ASSERT_EQ(EVP_PBE_scrypt("pw", 2, reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), c.n, c.r, c.p,
                             uint64_t{1} << 30, want.data(), want.size()),
              1);
    ScryptOptions o;
    o.threads = c.threads;
    o.helper_stride = c.stride;
    ASSERT_TRUE(ScryptDerive("pw", salt, c.n, c.r, c.p, got.data(), got.size(), o).ok());
    EXPECT_EQ(got, want) << "N=" << c.n << " r=" << c.r << " p=" << c.p << " threads=" << c.threads
                         << " stride=" << c.stride;
  }
}

TEST(Scrypt, RejectsBadParameters) {
  EXPECT_FALSE(Scrypt("p", "s", 1, 8, 1).ok());
  EXPECT_FALSE(Scrypt("p", "s", 1000, 8, 1).ok());
  EXPECT_FALSE(Scrypt("p", "s", 1024, 0, 1).ok());
  EXPECT_FALSE(Scrypt("p", "s", 1024, 8, 0).ok());
}

// §18.2: a key file written by restic 0.14 (N=32768, r=8, p=5).
constexpr char kResticKeyFile[] =
    R"({"created":"2026-11-27T01:41:38.065392978Z","username":"root","hostname":"vm","kdf":"scrypt","N":32768,"r":8,"p":5,"salt":"y6mT6t52RoBjwVwro+nIRI/6HF7/2CvkRxr6oug9EmtvnY/camLBeuroFGSvzMjbW/z7j6coRTUvPxI3R06pvA==","data":"nylkAwNPs1p/dvQWRV52cRdzdae0PUBvWDFHuGsqXJGbokOdgKhyLC2kOFgko6R5DgAN2Rsbkp65cVUV8NIRpY1xjtQ7Rac5ArbbHsGf8BLT4/e3qaZCMQ+9ASqWajZKoW/aKJSbh01/+yFP36c3KPIVcVUlpMKyiDPfbjZscDe6tCsWn4EOAhpMdngYPlQkPGTQK4GDmhSIX6I/qa23vw=="})";

TEST(KeyFile, OpensResticKeyFileAndRoundTripsItsBytes) {
  EXPECT_EQ(Id::Hash(kResticKeyFile).Hex(), "e705911cda141c0f4c7c0475d6e9b257e326f966213db50b70e6f10b7ec4c8ee");
  auto kf = KeyFile::Parse(kResticKeyFile);
  ASSERT_TRUE(kf.ok()) << kf.status().ToString();
  EXPECT_EQ(kf->params.n, 32768u);
  EXPECT_EQ(kf->params.p, 5u);
  EXPECT_EQ(kf->ToJson(), kResticKeyFile);  // byte-identical re-encoding
  auto master = OpenKeyFile(*kf, "testpass");
  ASSERT_TRUE(master.ok()) << master.status().ToString();
  EXPECT_EQ(master->ToJson(),
            R"({"mac":{"k":"QaCHSmEW82jfUAzwfCwQKA==","r":"vlsqAzzBcw3YVRkHUKQ+CA=="},"encrypt":"aheV8QMLP+aoWrz3BDYmA3VC46JNDFsABS5K4Vh2g6c="})");
  // The same repository's config decrypts with it (§18.2).
  auto config = Open(*master, Bytes("fd46ee117aa9265a5141112586967e94ce70c453cb01408eb26612a589a764a619464531fe1445e45798e3"
                                    "5b1584c82d1ffe34f7ecfb375c093303b6cb3fbf011d72e3a9febb39b5667e991455b97b78d03d5597b1"
                                    "af5644623a3b1729232fd2bbbf7f3f40ee7b72a946d5e3af655c10e64a1d743ed5b2f098e06447efa7e0"
                                    "1b8d8f920bb9ce1da5bbb624f11b017ce6211597537ec841413cbed3"));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(*config,
            R"({"version":2,"id":"edc8524f44c587d8b9bc50c26646fe91b9d498a65216b7a409ad23544237dd92","chunker_polynomial":"2f74f843e57f9f"})");
}

TEST(KeyFile, WrongPasswordIsWrongPassword) {
  auto kf = KeyFile::Parse(kResticKeyFile);
  ASSERT_TRUE(kf.ok());
  kf->params = {1024, 8, 1};  // keeps the test fast; the MAC fails either way
  auto r = OpenKeyFile(*kf, "nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kWrongPassword);
}

TEST(KeyFile, RejectsMalformedFiles) {
  EXPECT_FALSE(KeyFile::Parse("{").ok());
  EXPECT_FALSE(KeyFile::Parse(R"({"kdf":"argon2","N":2,"r":1,"p":1,"salt":"","data":""})").ok());
  // salt of 3 bytes
  EXPECT_FALSE(KeyFile::Parse(R"({"kdf":"scrypt","N":1024,"r":8,"p":1,"salt":"AAAA","data":"AAAA"})").ok());
  EXPECT_FALSE(KeyFile::Parse(R"({"kdf":"scrypt","N":-1,"r":8,"p":1,"salt":"AAAA","data":"AAAA"})").ok());
}

TEST(KeyFile, CreateThenOpen) {
  Key master = Key::Random();
  auto kf = CreateKeyFile(master, "secret", {1024, 8, 1}, "me", "host");
  ASSERT_TRUE(kf.ok());
  auto parsed = KeyFile::Parse(kf->ToJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto back = OpenKeyFile(*parsed, "secret");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->encrypt, master.encrypt);
  EXPECT_EQ(OpenKeyFile(*parsed, "Secret").status().code(), StatusCode::kWrongPassword);
}

}  // namespace
}  // namespace clawback::store
