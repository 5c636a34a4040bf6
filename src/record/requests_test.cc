// Validation of the write routes' bodies (no ledger needed: only the HTTP-thread half).
#include "record/requests.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace clawback::record {
namespace {

using ::testing::HasSubstr;

RequestInfo Info() {
  RequestInfo i;
  i.actor = "test";
  i.now_ms = 1'000;
  return i;
}

// Expects `build` to reject `body_text` with InvalidArgument naming `field`.
template <typename F>
void ExpectRejected(F build, const std::string& body_text, const std::string& field) {
  Json body = Json::parse(body_text);
  PrepareFn fn;
  FieldError err;
  EXPECT_FALSE(build(body, Info(), &fn, &err)) << body_text;
  EXPECT_EQ(err.status.code(), StatusCode::kInvalidArgument) << body_text;
  EXPECT_EQ(err.field, field) << body_text << " -> " << err.status.ToString();
}

template <typename F>
void ExpectAccepted(F build, const std::string& body_text) {
  PrepareFn fn;
  FieldError err;
  EXPECT_TRUE(build(Json::parse(body_text), Info(), &fn, &err))
      << body_text << " -> " << err.status.ToString();
  EXPECT_TRUE(fn);
}

TEST(ParseJsonBody, SyntaxErrorsAndDepth) {
  Json j;
  FieldError err;
  EXPECT_FALSE(ParseJsonBody("{\"a\":", &j, &err));
  EXPECT_THAT(err.status.message(), HasSubstr("invalid JSON"));
  EXPECT_FALSE(ParseJsonBody("", &j, &err));
  EXPECT_FALSE(ParseJsonBody("{} trailing", &j, &err));
  EXPECT_FALSE(ParseJsonBody(std::string(100000, '['), &j, &err));
  EXPECT_THAT(err.status.message(), HasSubstr("nested deeper"));
  // Brackets inside strings do not count.
  EXPECT_TRUE(ParseJsonBody("{\"a\":\"" + std::string(1000, '[') + "\\\"\"}", &j, &err));
  EXPECT_TRUE(ParseJsonBody(std::string(64, '[') + std::string(64, ']'), &j, &err));
  EXPECT_FALSE(ParseJsonBody("\"\\ud800\"x", &j, &err));
}

TEST(Requests, EventValidation) {
  ExpectAccepted(BuildEventJob, R"({"kind":"note"})");
  ExpectAccepted(BuildEventJob,
                 R"({"kind":"command","conversation_id":"0190f0c2-a1b2-7c3d-8e9f-001122334455",
                     "attributes":{"argv":["git","status"],"exit_code":0,"duration_ms":12}})");
  ExpectRejected(BuildEventJob, R"([])", "");
  ExpectRejected(BuildEventJob, R"({})", "kind");
  ExpectRejected(BuildEventJob, R"({"kind":7})", "kind");
  ExpectRejected(BuildEventJob, R"({"kind":"x","conversation_id":"nope"})", "conversation_id");
  ExpectRejected(BuildEventJob, R"({"kind":"x","attributes":[1]})", "attributes");
  ExpectRejected(BuildEventJob, R"({"kind":"x","time":"soon"})", "time");
  ExpectRejected(BuildEventJob, R"({"kind":"x","external_id":{"kind":"a"}})", "external_id.value");
  ExpectRejected(BuildEventJob, R"({"kind":"command","attributes":{}})", "attributes.argv");
  ExpectRejected(BuildEventJob, R"({"kind":"command","attributes":{"argv":["a",1]}})",
                 "attributes.argv[1]");
  ExpectRejected(BuildEventJob, R"({"kind":"command","attributes":{"argv":["a"],"exit_code":"0"}})",
                 "attributes.exit_code");
  ExpectRejected(BuildEventJob, R"({"kind":"file_change","attributes":{}})", "attributes.path");
}

TEST(Requests, ConversationValidation) {
  ExpectAccepted(BuildConversationStartJob, R"({})");
  ExpectAccepted(BuildConversationStartJob,
                 R"({"title":"t","source":"cli","external_ids":[{"kind":"k","value":"v"}],
                     "started_at":"2026-11-27T02:12:01Z"})");
  ExpectRejected(BuildConversationStartJob, R"({"title":1})", "title");
  ExpectRejected(BuildConversationStartJob, R"({"external_ids":{}})", "external_ids");
  ExpectRejected(BuildConversationStartJob, R"({"external_ids":[{"kind":"k"}]})",
                 "external_ids[0].value");
  ExpectRejected(BuildConversationStartJob, R"({"id":"x"})", "id");
  PrepareFn fn;
  FieldError err;
  EXPECT_FALSE(BuildConversationEndJob("not-a-uuid", Json(), Info(), &fn, &err));
  EXPECT_EQ(err.field, "id");
  EXPECT_FALSE(BuildConversationEndJob("0190f0c2-a1b2-7c3d-8e9f-001122334455",
                                       Json{{"status", "active"}}, Info(), &fn, &err));
  EXPECT_EQ(err.field, "status");
  EXPECT_TRUE(BuildConversationEndJob("0190f0c2-a1b2-7c3d-8e9f-001122334455", Json(), Info(), &fn,
                                      &err));
}

TEST(Requests, CommitAndDeploymentValidation) {
  ExpectAccepted(BuildCommitJob, R"({"sha":"ABCDEF1234567","files":["a"]})");
  ExpectRejected(BuildCommitJob, R"({})", "sha");
  ExpectRejected(BuildCommitJob, R"({"sha":"xyz1234"})", "sha");
  ExpectRejected(BuildCommitJob, R"({"sha":"abcdef1","trailer":"not-a-uuid"})", "trailer");
  ExpectRejected(BuildCommitJob, R"({"sha":"abcdef1","files":"a"})", "files");
  ExpectAccepted(BuildDeploymentCreateJob, R"({"environment":"prod","commit_sha":"abc1234"})");
  ExpectRejected(BuildDeploymentCreateJob, R"({})", "environment");
  ExpectRejected(BuildDeploymentCreateJob, R"({"environment":"prod","status":"meh"})", "status");
  ExpectRejected(BuildDeploymentCreateJob, R"({"environment":"prod","commit_sha":"zz"})",
                 "commit_sha");
  PrepareFn fn;
  FieldError err;
  EXPECT_FALSE(BuildDeploymentPatchJob("0190f0c2-a1b2-7c3d-8e9f-001122334455",
                                       Json{{"status", "done"}}, Info(), &fn, &err));
  EXPECT_EQ(err.field, "status");
  EXPECT_FALSE(BuildDeploymentPatchJob("x", Json::object(), Info(), &fn, &err));
  EXPECT_EQ(err.field, "id");
}

}  // namespace
}  // namespace clawback::record
