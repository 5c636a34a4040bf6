#include "record/rule_helpers.h"

#include <cctype>

namespace clawback::record::detail {

void Fail(Reply* r, Status st, std::string field) {
  r->status = std::move(st);
  r->field = std::move(field);
}

bool IsHex(std::string_view s) {
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ReadKind(const Json& body, const std::string& key, std::string* out, FieldError* err) {
  if (!ReadString(body, "", key, true, out, err)) return false;
  if (out->size() > 128) {
    *err = Invalid(key, "is longer than 128 characters");
    return false;
  }
  return true;
}

bool RequireObject(const Json& body, FieldError* err) {
  if (body.is_object()) return true;
  *err = Invalid("", "body must be a JSON object");
  return false;
}

bool ParseUuidText(std::string_view text, const std::string& field, Uuid* out, FieldError* err) {
  std::optional<Uuid> id = Uuid::Parse(text);
  if (!id) {
    *err = Invalid(field, "is not a UUID");
    return false;
  }
  *out = *id;
  return true;
}

// Resolves "conversation_id" / "external_id" on the writer thread. Fails the reply with
// NotFound naming the field when the conversation does not exist.
bool ResolveConversation(Context& ctx, const std::optional<Uuid>& id,
                         const std::optional<ledger::ExternalId>& ext, std::optional<Uuid>* out,
                         Reply* reply) {
  if (id) {
    auto exists = ctx.ConversationExists(*id);
    if (!exists.ok()) {
      Fail(reply, exists.status(), "conversation_id");
      return false;
    }
    if (!*exists) {
      Fail(reply, NotFound("conversation " + id->ToString() + " does not exist"),
           "conversation_id");
      return false;
    }
    *out = id;
    return true;
  }
  if (ext) {
    auto found = ctx.ledger().FindConversationByExternal(ext->kind, ext->value);
    if (!found.ok()) {
      Fail(reply, found.status(), "external_id");
      return false;
    }
    if (!found->has_value()) {
      Fail(reply, NotFound("no conversation has external id " + ext->kind + "=" + ext->value),
           "external_id");
      return false;
    }
    *out = (*found)->id;
    ctx.NoteConversation((*found)->id);
  }
  return true;
}

Json IdOrNull(const std::optional<Uuid>& id) { return id ? Json(id->ToString()) : Json(); }

bool ValidDeploymentStatus(const std::string& s) {
  return s == "started" || s == "succeeded" || s == "failed" || s == "rolled_back";
}

}  // namespace clawback::record::detail
