#include "record/direct.h"

namespace clawback::record {
namespace {

Status WithField(const Status& st, const std::string& field) {
  if (field.empty()) return st;
  return Status(st.code(), st.message() + " (field " + field + ")");
}

}  // namespace

Result<Json> WriteDirect(ledger::Ledger* ledger, const RouteDeps& deps, const std::string& method,
                         const std::string& path, Json body, const std::string& actor,
                         const Clock& clock) {
  std::vector<WriteRoute> routes = WriteRoutes(deps);
  std::vector<std::string> params;
  const WriteRoute* route = FindWriteRoute(routes, method, path, &params);
  if (!route) return Internal("no write route for " + method + " " + path);
  RequestInfo info;
  info.actor = actor;
  info.now_ms = clock.NowUnixMillis();
  ApplyDeclaredActor(body, &info);
  PrepareFn fn;
  FieldError err;
  if (!route->build(body, params, info, &fn, &err)) return WithField(err.status, err.field);
  return ApplyJob(ledger, std::move(fn), clock);
}

Result<Json> ApplyJob(ledger::Ledger* ledger, PrepareFn job, const Clock& clock) {
  Context ctx(ledger, clock);
  auto commit = [&ctx, ledger](PrepareFn next) {
    Reply r;
    ledger::WriteBatch batch;
    next(ctx, &batch, &r);
    if (r.status.ok() && !batch.empty()) r.status = ledger->Apply(batch);
    return r;
  };
  Reply reply = commit(std::move(job));
  if (!reply.status.ok()) return WithField(reply.status, reply.field);
  if (reply.finish_body) reply.finish_body(&reply.body);
  RunAfterCommit(&reply, commit);
  return reply.body;
}

}  // namespace clawback::record
