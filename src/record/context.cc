#include "record/context.h"

namespace clawback::record {

Result<std::optional<SessionState>*> Context::Session(const std::string& session_key) {
  auto it = sessions_.find(session_key);
  if (it != sessions_.end()) return &it->second;
  // "id:<sessionId>" keys sessions that came without a sessionKey.
  bool by_id = session_key.rfind("id:", 0) == 0;
  auto found = ledger_->FindConversationByExternal(by_id ? kExtSessionId : kExtSessionKey,
                                                   by_id ? session_key.substr(3) : session_key);
  if (!found.ok()) return found.status();
  std::optional<SessionState> st;
  if (found->has_value()) {
    st = SessionStateFromConversation(**found);
    known_conversations_.insert((*found)->id.ToHex());
  }
  return &sessions_.emplace(session_key, std::move(st)).first->second;
}

Result<bool> Context::ConversationExists(const Uuid& id) {
  if (known_conversations_.count(id.ToHex())) return true;
  auto c = ledger_->GetConversation(id);
  if (c.ok()) {
    known_conversations_.insert(id.ToHex());
    return true;
  }
  if (c.status().code() == StatusCode::kNotFound) return false;
  return c.status();
}

void Context::NoteConversationEnded(const Uuid& id) {
  for (auto& [key, st] : sessions_)
    if (st && st->conversation_id == id) st->open = false;
}

void Context::Invalidate() {
  sessions_.clear();
  known_conversations_.clear();
}

void Context::TrimIfLarge() {
  // Sessions are cheap to reload; bound memory for long-running servers.
  if (sessions_.size() > 100000) sessions_.clear();
  if (known_conversations_.size() > 200000) known_conversations_.clear();
}

}  // namespace clawback::record
