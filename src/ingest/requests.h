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
//   POST /v1/conversations/{id}/end  {"status"? ("ended"), "ended_at"?}
//                                                   -> {"conversation_id", "status"}
//   POST /v1/commits        {"sha", "conversation_id"?, "trailer"?, "repo"?, "branch"?,
//                            "message"?, "author"?, "files"? [], "time"?}
//        the conversation is conversation_id, else the trailer's UUID.
//                                                   -> 201 {"sha", "conversation_id"}
//   POST /v1/deployments    {"id"?, "environment", "commit_sha"?, "conversation_id"?,
//                            "status"? ("started"), "started_at"?, "attributes"? {}}
//        without conversation_id the commit's conversation is used when the commit is known.
//                                                   -> 201 {"deployment_id", "conversation_id"}
//   PATCH /v1/deployments/{id}  {"status"?, "finished_at"?, "attributes"? (merged)}
//                                                   -> the deployment document (trace_json.h)
//
// Thread-safety: pure functions; the PrepareFns run on the writer thread.
#pragma once

#include <string>
#include <string_view>

#include "ingest/json_fields.h"
#include "ingest/writer.h"

namespace clawback::ingest {

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

}  // namespace clawback::ingest
