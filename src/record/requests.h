// Request bodies of the write routes -> writer jobs.
//
// Each Build*Job validates a parsed JSON body on the HTTP thread (errors name the field)
// and returns a PrepareFn that the writer thread runs to resolve ids against the ledger
// and fill the request's WriteBatch and answer. Body shapes (all times are RFC 3339
// strings or Unix milliseconds; unknown keys are ignored):
//
//   POST /v1/events         {"conversation_id"? | "external_id"? {"kind","value"},
//                            "kind", "attributes"? {}, "time"?, "actor"?}
//        kind "command" also records a Command from attributes {argv[], cwd, exit_code,
//        duration_ms, tool_call_id}; kind "file_change" a FileChange from {path, change,
//        tool_call_id}.                              -> {"event_id", "conversation_id"}
//   POST /v1/conversations  {"id"?, "title"?, "source"? ("api"), "agent"?, "started_at"?,
//                            "previous_id"?, "external_ids"? [{"kind","value"}],
//                            "attributes"? {}}      -> 201 {"conversation_id"}
//        also a `conversation.start` event {source, title, external_ids?}.
//   POST /v1/conversations/{id}/end  {"status"? ("ended"), "ended_at"?}
//                                                   -> {"conversation_id", "status"}
//   POST /v1/commits        {"sha", "conversation_id"?, "trailer"?, "repo"?, "branch"?,
//                            "message"?, "author"?, "files"? [], "time"?}
//        the conversation is conversation_id, else the trailer's UUID.
//                                                   -> 201 {"sha", "conversation_id"}
//   POST /v1/deployments    {"id"?, "environment", "commit_sha"?, "conversation_id"?,
//                            "status"? ("started"), "started_at"?, "attributes"? {}}
//        without conversation_id the commit's conversation is used when the commit is known,
//        else a new conversation "deploy <environment>" is opened for it (so its checks and
//        resolutions have one to go on).
//                                                   -> 201 {"deployment_id", "conversation_id"}
//   PATCH /v1/deployments/{id}  {"status"?, "finished_at"?, "attributes"? (merged),
//                                "rollback_mode"? ("exact"|"selective"), "note"?}
//        status rolled_back also records a RollbackRecord (target_kind "deployment", the
//        record the time machine writes).   -> the deployment document (trace_json.h),
//                                              with "rollback_id" (null unless rolled back)
//   POST /v1/deployments/{id}/checks  {"name", "passed" bool, "message"?, "time"?}
//        a `health_check` event on the deployment's conversation; a failed check also records
//        the learning system's advice (`learn.recommendation`) when the server has it.
//                                   -> 201 {"event_id", "deployment_id", "name", "passed",
//                                           "recommendation"?, "recommendation_event_id"?}
//   POST /v1/deployments/{id}/resolutions  {"action" (revert_commit|restore_file|wait|
//                            fix_forward), "commit"?, "path"?, "snapshot"?, "note"?, "time"?}
//                                   -> 201 {"event_id", "deployment_id", "action"}
// Every body may name its "actor" (else the token's name; see routes.h).
//
// Thread-safety: pure functions; the PrepareFns run on the writer thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "record/json_fields.h"
#include "record/context.h"

namespace clawback::record {

// Nesting deeper than this is rejected before parsing (the parser recurses).
inline constexpr int kMaxJsonDepth = 64;

// Parses a request body as JSON: InvalidArgument with the byte offset on a syntax error,
// and for nesting deeper than kMaxJsonDepth. Never throws.
bool ParseJsonBody(std::string_view body, Json* out, FieldError* err);

struct RequestInfo {
  std::string actor;  // the token's name, as the default event actor
  int64_t now_ms = 0;
  size_t max_events = 10000;
};

// Takes the body by value: the server moves its parsed body in (see ParseOpenClawBody).
bool BuildOpenClawJob(Json body, const RequestInfo& info, PrepareFn* out, FieldError* err);
bool BuildEventJob(const Json& body, const RequestInfo& info, PrepareFn* out, FieldError* err);
bool BuildConversationStartJob(const Json& body, const RequestInfo& info, PrepareFn* out,
                               FieldError* err);
bool BuildConversationEndJob(std::string_view id, const Json& body, const RequestInfo& info,
                             PrepareFn* out, FieldError* err);
bool BuildCommitJob(const Json& body, const RequestInfo& info, PrepareFn* out, FieldError* err);
bool BuildDeploymentCreateJob(const Json& body, const RequestInfo& info, PrepareFn* out,
                              FieldError* err);
bool BuildDeploymentPatchJob(std::string_view id, const Json& body, const RequestInfo& info,
                             PrepareFn* out, FieldError* err);
// `recommend` (may be empty) computes advice for a deployment after a failed check commits.
bool BuildDeploymentCheckJob(std::string_view id, const Json& body, const RequestInfo& info,
                             const std::function<Result<Json>(const Uuid&)>& recommend,
                             PrepareFn* out, FieldError* err);
bool BuildDeploymentResolutionJob(std::string_view id, const Json& body, const RequestInfo& info,
                                  PrepareFn* out, FieldError* err);

}  // namespace clawback::record
