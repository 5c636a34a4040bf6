// What a record rule may consult while it turns one request into one ledger batch, and
// what it answers. Shared by the ingest server's writer thread (ingest/writer.h) and the
// CLI's direct mode (record/direct.h), so the two write the same rows.
//
// Thread-safety: a Context belongs to one thread (the server's writer thread, or the CLI
// command) and is only valid during Prepare.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/clock.h"
#include "common/status.h"
#include "common/uuid.h"
#include "ledger/ledger.h"
#include "record/json_fields.h"
#include "record/openclaw.h"

namespace clawback::record {

// What a rule's Prepare may consult: ledger lookups behind a cache of OpenClaw sessions
// and known conversations, and fresh ids. Only valid during Prepare.
class Context {
 public:
  Context(ledger::Ledger* ledger, const Clock& clock) : ledger_(ledger), clock_(clock), ids_(clock) {}

  // The state of an OpenClaw session key (loaded from the ledger on a cache miss). The
  // pointer stays valid for the rest of the current group.
  Result<std::optional<SessionState>*> Session(const std::string& session_key);
  // Whether a conversation exists (cached once seen).
  Result<bool> ConversationExists(const Uuid& id);
  // Records that a conversation was written in this group (so later jobs find it).
  void NoteConversation(const Uuid& id) { known_conversations_.insert(id.ToHex()); }
  // A conversation's end, written by a non-OpenClaw route: closes any session state on it.
  void NoteConversationEnded(const Uuid& id);
  // Drops the cached state of a session key (a route wrote a conversation for it).
  void ForgetSession(const std::string& session_key) { sessions_.erase(session_key); }

  ledger::Ledger& ledger() { return *ledger_; }
  Uuid NewId() { return ids_.Next(); }
  int64_t NowMs() const { return clock_.NowUnixMillis(); }

  // Between groups.
  void Invalidate();
  void TrimIfLarge();

 private:
  ledger::Ledger* ledger_;
  const Clock& clock_;
  UuidV7Generator ids_;
  std::unordered_map<std::string, std::optional<SessionState>> sessions_;
  std::unordered_set<std::string> known_conversations_;  // hex ids
};

struct Reply;
// A unit of work: fills `batch` and `reply->body`, or fails with reply->status/field.
// Returning with an empty batch and OK status answers without writing.
using PrepareFn = std::function<void(Context& ctx, ledger::WriteBatch* batch, Reply* reply)>;

struct Reply {
  Status status;        // OK, or why the request failed
  std::string field;    // the field an error is about
  Json body;            // the answer on success
  // Completes `body` on the request's thread (work the single writer thread need not do).
  std::function<void(Json* body)> finish_body;
  std::optional<Uuid> conversation_id;  // for the latency exemplar
  int events = 0;       // events the request appended (for metrics)
  // The request's batch after the writer is done with it: freed by the thread that reads
  // the reply, so the single writer thread does not spend its time in free().
  ledger::WriteBatch spent;
  // Work for the caller's thread once the batch is committed (advice that reads the rows
  // just written), never on the writer thread. It may return one more job, committed the
  // same way; that job's answer body is merged into this one's.
  std::function<Result<std::optional<PrepareFn>>()> after_commit;
};


}  // namespace clawback::record
