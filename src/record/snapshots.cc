#include "record/snapshots.h"

#include "ledger/event_kinds.h"

namespace clawback::record {

bool ParseSnapshotRequest(const Json& body, SnapshotRequest* out, FieldError* err) {
  if (body.is_null()) return true;  // an empty body: the default paths
  if (!body.is_object()) {
    *err = Invalid("", "the body must be a JSON object");
    return false;
  }
  if (!ReadStringArray(body, "", "paths", false, &out->paths, err)) return false;
  for (size_t i = 0; i < out->paths.size(); ++i) {
    if (out->paths[i].empty() || out->paths[i][0] != '/') {
      *err = Invalid(Path("paths", i), "must be an absolute path (the server's working directory is not yours)");
      return false;
    }
  }
  if (!ReadStringArray(body, "", "tags", false, &out->tags, err)) return false;
  std::string conv_field = body.contains("conversation_id") ? "conversation_id" : "conversation";
  if (!ReadUuid(body, "", conv_field, false, &out->conversation, err)) return false;
  if (!ReadString(body, "", "reason", false, &out->reason, err)) return false;
  if (!ReadString(body, "", "host", false, &out->host, err)) return false;
  if (!ReadStringArray(body, "", "excludes", false, &out->excludes, err)) return false;
  if (!ReadString(body, "", "parent", false, &out->parent, err)) return false;
  if (!ReadString(body, "", "repository", false, &out->repository, err)) return false;
  if (body.contains("force")) {
    if (!body["force"].is_boolean()) {
      *err = Invalid("force", "expected true or false");
      return false;
    }
    out->force = body["force"].get<bool>();
  }
  return true;
}

PrepareFn RecordSnapshotJob(SnapshotOutcome outcome, std::optional<Uuid> conv, std::string actor) {
  auto o = std::make_shared<SnapshotOutcome>(std::move(outcome));
  return [o, conv, actor](Context& ctx, ledger::WriteBatch* batch, Reply* reply) {
    ledger::SnapshotRecord rec = o->record;
    rec.conversation_id = conv;
    if (rec.reason.empty()) rec.reason = "manual";
    ledger::Event e;
    e.id = ctx.NewId();
    e.conversation_id = conv;
    e.kind = ledger::kSnapshot;
    e.time_ms = ctx.NowMs();
    e.actor = actor;
    e.attributes = Json{{"snapshot_id", rec.snapshot_id},
                        {"repository", rec.repository},
                        {"reason", rec.reason},
                        {"paths", rec.paths}};
    if (conv) ctx.NoteConversation(*conv);
    reply->conversation_id = conv;
    reply->body = o->summary;
    reply->body["conversation_id"] = conv ? Json(conv->ToString()) : Json(nullptr);
    batch->Add(std::move(rec));
    batch->Add(std::move(e));
  };
}

bool BuildSnapshotJob(const SnapshotFn& take, ledger::Ledger* ledger, const Json& body,
                      const RequestInfo& info, PrepareFn* out, FieldError* err) {
  SnapshotRequest req;
  if (!ParseSnapshotRequest(body, &req, err)) return false;
  const std::string conv_field = body.is_object() && body.contains("conversation_id") ? "conversation_id"
                                                                                      : "conversation";
  if (req.conversation) {
    auto c = ledger->GetConversation(*req.conversation);
    if (!c.ok()) {
      *err = FieldError{c.status().code() == StatusCode::kNotFound
                            ? NotFound("conversation " + req.conversation->ToString() + " does not exist")
                            : c.status(),
                        conv_field};
      return false;
    }
  }
  if (!take) {
    *err = FieldError{FailedPrecondition("this server has no snapshot repository open"), ""};
    return false;
  }
  auto outcome = take(req);
  if (!outcome.ok()) {
    *err = FieldError{outcome.status(), ""};
    return false;
  }
  *out = RecordSnapshotJob(std::move(*outcome), req.conversation, info.actor);
  return true;
}

}  // namespace clawback::record
