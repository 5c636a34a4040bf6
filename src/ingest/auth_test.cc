#include "ingest/auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "common/testing/temp_dir.h"
#include "ledger/ledger.h"

namespace clawback::ingest {
namespace {

TEST(Auth, GeneratedTokensHaveTheDocumentedShape) {
  std::string a = GenerateToken(), b = GenerateToken();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 47u);
  EXPECT_EQ(a.substr(0, 4), "cbk_");
  for (char c : a.substr(4))
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << c;
}

TEST(Auth, HashIsHexSha256OfTheText) {
  EXPECT_EQ(HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ledger::Token t = MakeTokenRecord("abc", "ci", ledger::Role::kIngest, 42);
  EXPECT_EQ(t.hash, HashToken("abc"));
  EXPECT_EQ(t.role, ledger::Role::kIngest);
  EXPECT_EQ(t.created_at_ms, 42);
  EXPECT_EQ(t.id.version(), 7);
}

TEST(Auth, HmacMatchesRfc4231) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Auth, VerifySignature) {
  std::string sig = "sha256=" + HmacSha256Hex("s3cret", "{\"a\":1}");
  EXPECT_TRUE(VerifySignature("s3cret", "{\"a\":1}", sig).ok());
  std::string upper = sig;
  for (size_t i = 7; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  EXPECT_TRUE(VerifySignature("s3cret", "{\"a\":1}", upper).ok());
  EXPECT_EQ(VerifySignature("s3cret", "{\"a\":2}", sig).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySignature("other", "{\"a\":1}", sig).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySignature("s3cret", "{}", "").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySignature("s3cret", "{}", "md5=abc").code(), StatusCode::kUnauthenticated);
}

TEST(Auth, ParseBearer) {
  EXPECT_EQ(ParseBearer("Bearer cbk_x"), "cbk_x");
  EXPECT_EQ(ParseBearer("bearer   cbk_x  "), "cbk_x");
  EXPECT_EQ(ParseBearer("Basic Zm9vOmJhcg=="), std::nullopt);
  EXPECT_EQ(ParseBearer("Bearer "), std::nullopt);
  EXPECT_EQ(ParseBearer(""), std::nullopt);
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = ledger::OpenLedger("sqlite:" + tmp_.File("ledger.db"), clock_);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(*l);
    ASSERT_TRUE(ledger_->Migrate().ok());
  }
  void TearDown() override { ledger_.reset(); }
  std::string AddToken(ledger::Role role, const std::string& name, bool revoked = false) {
    std::string tok = GenerateToken();
    ledger::WriteBatch b;
    ledger::Token t = MakeTokenRecord(tok, name, role, 1);
    t.revoked = revoked;
    b.Add(t);
    EXPECT_TRUE(ledger_->Apply(b).ok());
    return tok;
  }
  ManualClock clock_;
  test::TempDir tmp_{"clawback-auth"};  // outlives the ledger in it
  std::unique_ptr<ledger::Ledger> ledger_;
};

TEST_F(AuthenticatorTest, RolesAreOrdered) {
  TokenAuthenticator auth(ledger_.get(), clock_);
  std::string viewer = AddToken(ledger::Role::kViewer, "dash");
  std::string ingest = AddToken(ledger::Role::kIngest, "plugin");
  std::string admin = AddToken(ledger::Role::kAdmin, "root");
  auto p = auth.Authenticate("Bearer " + viewer, ledger::Role::kViewer);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->token_name, "dash");
  EXPECT_EQ(auth.Authenticate("Bearer " + viewer, ledger::Role::kIngest).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(auth.Authenticate("Bearer " + ingest, ledger::Role::kIngest).ok());
  EXPECT_TRUE(auth.Authenticate("Bearer " + ingest, ledger::Role::kViewer).ok());
  EXPECT_EQ(auth.Authenticate("Bearer " + ingest, ledger::Role::kOperator).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(auth.Authenticate("Bearer " + admin, ledger::Role::kOperator).ok());
  EXPECT_EQ(auth.Authenticate("", ledger::Role::kViewer).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Authenticate("Bearer cbk_nope", ledger::Role::kViewer).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(AuthenticatorTest, RevokedTokensAreRejectedAndCacheExpires) {
  TokenAuthenticator auth(ledger_.get(), clock_, std::chrono::seconds(5));
  std::string revoked = AddToken(ledger::Role::kAdmin, "old", /*revoked=*/true);
  EXPECT_EQ(auth.Authenticate("Bearer " + revoked, ledger::Role::kViewer).status().code(),
            StatusCode::kUnauthenticated);
  // A token created after a failed lookup works once the negative entry expires.
  std::string tok = GenerateToken();
  EXPECT_FALSE(auth.Authenticate("Bearer " + tok, ledger::Role::kViewer).ok());
  ledger::WriteBatch b;
  b.Add(MakeTokenRecord(tok, "late", ledger::Role::kViewer, 1));
  ASSERT_TRUE(ledger_->Apply(b).ok());
  EXPECT_FALSE(auth.Authenticate("Bearer " + tok, ledger::Role::kViewer).ok());  // cached
  clock_.Advance(std::chrono::seconds(6));
  EXPECT_TRUE(auth.Authenticate("Bearer " + tok, ledger::Role::kViewer).ok());
}

}  // namespace
}  // namespace clawback::ingest
