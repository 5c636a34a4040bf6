// What the record rules (requests.cc, deployments.cc) share: failing a reply, reading and
// checking fields, resolving a request's conversation. Internal to record/.
//
// Thread-safety: pure functions, except ResolveConversation (the writer thread's Context).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ledger/ledger.h"
#include "record/context.h"
#include "record/json_fields.h"

namespace clawback::record::detail {

void Fail(Reply* r, Status st, std::string field);
bool IsHex(std::string_view s);
std::string Lower(std::string s);
// A kind (of an event): a required string of at most 128 characters.
bool ReadKind(const Json& body, const std::string& key, std::string* out, FieldError* err);
bool RequireObject(const Json& body, FieldError* err);
bool ParseUuidText(std::string_view text, const std::string& field, Uuid* out, FieldError* err);
// Resolves "conversation_id" / "external_id" on the writer thread. Fails the reply with
// NotFound naming the field when the conversation does not exist.
bool ResolveConversation(Context& ctx, const std::optional<Uuid>& id,
                         const std::optional<ledger::ExternalId>& ext, std::optional<Uuid>* out,
                         Reply* reply);
Json IdOrNull(const std::optional<Uuid>& id);
bool ValidDeploymentStatus(const std::string& s);

}  // namespace clawback::record::detail
