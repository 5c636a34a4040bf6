// The write routes: every rule that turns a request into a ledger write, by HTTP method and
// path. `clawback serve` registers exactly these (ingest/server.cc); the CLI's direct mode
// dispatches to them by the same method and path (record/direct.h). So a command writes the
// same rows whether it goes through a server or opens the ledger itself.
//
// Request and answer bodies: record/requests.h (events, conversations, commits,
// deployments), record/openclaw.h (hook events), record/snapshots.h (snapshots).
//
// Thread-safety: the table is immutable once built; builders run on the caller's thread,
// their PrepareFns on the thread that writes (the server's writer, or the CLI command).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "record/context.h"
#include "record/json_fields.h"
#include "record/requests.h"
#include "record/snapshots.h"

namespace clawback::record {

// Parses and validates a body (which it may consume) with the path's captures; fills the
// job or fails naming the field.
using Builder = std::function<bool(Json& body, const std::vector<std::string>& params,
                                   const RequestInfo& info, PrepareFn* out, FieldError* err)>;

struct WriteRoute {
  std::string method;   // "POST" or "PATCH"
  std::string pattern;  // a regex over the path; groups are the params
  std::string name;     // the route as metrics and docs name it: "/v1/deployments/{id}"
  int ok_status = 200;
  bool empty_body_ok = false;
  ledger::Role role = ledger::Role::kIngest;
  Builder build;
};

// What some routes need beyond the ledger: how to take a snapshot (POST /v1/snapshots) and
// how to compute advice for a deployment (a failed health check records it). Empty: the
// snapshot route answers FailedPrecondition; a failed check records no advice.
struct RouteDeps {
  SnapshotFn snapshots;
  ledger::Ledger* ledger = nullptr;  // read-only lookups before the job (snapshot route)
  std::function<Result<Json>(const Uuid& deployment)> recommendations;
};

std::vector<WriteRoute> WriteRoutes(const RouteDeps& deps);

// The route for `method` and `path`, its captures in *params; nullptr when none matches.
const WriteRoute* FindWriteRoute(const std::vector<WriteRoute>& routes, const std::string& method,
                                 const std::string& path, std::vector<std::string>* params);

// Runs a committed reply's after_commit work (on the calling thread) and commits the job it
// returns with `commit`, merging that answer into *reply's body. A failure of either is a
// "warnings" entry in the body, not the reply's status: the first batch is committed.
void RunAfterCommit(Reply* reply, const std::function<Reply(PrepareFn)>& commit);

// A body's declared "actor" (a string), which names who acts in the record instead of the
// token's name: the CLI says "cli" (and "exec", "git-hook") whichever way it writes.
void ApplyDeclaredActor(const Json& body, RequestInfo* info);

}  // namespace clawback::record
