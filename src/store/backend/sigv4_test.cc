// SigV4 against AWS's published worked examples (S3 API reference, "Signature
// Calculations for the Authorization Header: Transferring Payload in a Single Chunk"):
// access key AKIAIOSFODNN7EXAMPLE, secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY,
// bucket examplebucket, us-east-1, 20130524T000000Z.
#include "store/backend/sigv4.h"

#include <gtest/gtest.h>

namespace clawback::store {
namespace {

const SigV4Credentials kCreds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                              "us-east-1", "s3"};
constexpr char kDate[] = "20130524T000000Z";
constexpr char kEmpty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kHost[] = "examplebucket.s3.amazonaws.com";

TEST(SigV4, AwsExampleGetObjectWithRange) {
  SigV4Request r;
  r.method = "GET";
  r.canonical_uri = UriEncode("/test.txt", true);
  r.headers = {{"Host", kHost},
               {"Range", "bytes=0-9"},
               {"x-amz-content-sha256", kEmpty},
               {"x-amz-date", kDate}};
  r.payload_hash = kEmpty;
  SigV4Signature s = SignV4(r, kCreds, kDate);
  EXPECT_EQ(
      s.canonical_request,
      "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, AwsExamplePutObjectSignsThePayloadHash) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string hash = Sha256Hex(body);
  EXPECT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigV4Request r;
  r.method = "PUT";
  r.canonical_uri = UriEncode("/test$file.text", true);
  EXPECT_EQ(r.canonical_uri, "/test%24file.text");
  r.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"Host", kHost},
               {"x-amz-date", kDate},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"x-amz-content-sha256", hash}};
  r.payload_hash = hash;
  SigV4Signature s = SignV4(r, kCreds, kDate);
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(s.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, AwsExampleGetBucketLifecycle) {
  SigV4Request r;
  r.method = "GET";
  r.canonical_uri = "/";
  r.canonical_query = CanonicalQuery({{"lifecycle", ""}});
  EXPECT_EQ(r.canonical_query, "lifecycle=");
  r.headers = {{"Host", kHost}, {"x-amz-date", kDate}, {"x-amz-content-sha256", kEmpty}};
  r.payload_hash = kEmpty;
  SigV4Signature s = SignV4(r, kCreds, kDate);
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  EXPECT_EQ(s.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, AwsExampleListObjectsSortsTheQuery) {
  SigV4Request r;
  r.method = "GET";
  r.canonical_uri = "/";
  r.canonical_query = CanonicalQuery({{"prefix", "J"}, {"max-keys", "2"}});
  EXPECT_EQ(r.canonical_query, "max-keys=2&prefix=J");
  r.headers = {{"Host", kHost}, {"x-amz-date", kDate}, {"x-amz-content-sha256", kEmpty}};
  r.payload_hash = kEmpty;
  SigV4Signature s = SignV4(r, kCreds, kDate);
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, HeaderValuesAreTrimmedAndNamesLowercased) {
  SigV4Request a, b;
  a.method = b.method = "GET";
  a.canonical_uri = b.canonical_uri = "/";
  a.headers = {{"Host", kHost}, {"X-Amz-Date", kDate}, {"X-Custom", "  a   b  "}};
  b.headers = {{"x-custom", "a b"}, {"x-amz-date", kDate}, {"host", kHost}};
  a.payload_hash = b.payload_hash = kEmpty;
  EXPECT_EQ(SignV4(a, kCreds, kDate).signature, SignV4(b, kCreds, kDate).signature);
  EXPECT_NE(
      SignV4(a, kCreds, kDate).signature,
      SignV4(a, SigV4Credentials{kCreds.access_key, "other", "us-east-1", "s3"}, kDate).signature);
}

TEST(SigV4, UriEncodeAndQuery) {
  EXPECT_EQ(UriEncode("a b/c~d_e-f.g", true), "a%20b/c~d_e-f.g");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriEncode("\xc3\xa9", false), "%C3%A9");
  EXPECT_EQ(CanonicalQuery(
                {{"prefix", "repo/data/"}, {"list-type", "2"}, {"continuation-token", "1/+abc="}}),
            "continuation-token=1%2F%2Babc%3D&list-type=2&prefix=repo%2Fdata%2F");
  EXPECT_EQ(AmzDate(1369353600), "20130524T000000Z");
}

}  // namespace
}  // namespace clawback::store
