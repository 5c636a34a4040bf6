// How the CLI reaches the record: the data dir's ledger directly, or a running
// `clawback serve` over HTTP (--server URL / $CLAWBACK_SERVER, bearer token from
// $CLAWBACK_TOKEN). Both answer reads with the same JSON documents
// (ledger/trace_json.h), so every command prints the same thing either way.
//
// Thread-safety: one client per command invocation; not shared between threads.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "common/status.h"
#include "common/uuid.h"
#include "ledger/ledger.h"

namespace clawback::cli {

using Json = nlohmann::json;

struct StartConversationRequest {
  std::string title;
  std::string source = "cli";
  std::string agent;
  std::vector<ledger::ExternalId> external_ids;
  Json attributes = Json::object();
};

// Writes are the same request either way: each method builds the body of a write route
// (record/routes.h) and Write() either POSTs it to the server or runs the route's rule
// against the ledger in this process (record/direct.h). So a command writes the same rows
// with or without --server.
class SpineClient {
 public:
  virtual ~SpineClient() = default;

  // "ledger <url>" or "server <url>", for messages.
  virtual std::string Describe() const = 0;

  // One write route: its answer body, or its error prefixed with `what`.
  virtual Result<Json> Write(const std::string& method, const std::string& path, const Json& body,
                             const std::string& what) = 0;

  Result<Uuid> StartConversation(const StartConversationRequest& req);
  // NotFound when the conversation does not exist.
  Status EndConversation(const Uuid& id, const std::string& status);
  // Appends an event; returns its id.
  Result<Uuid> RecordEvent(const Uuid& conversation_id, const std::string& kind,
                           const Json& attributes);
  // A command with its exit code and duration (and the matching `command` event).
  Status RecordCommand(const ledger::Command& command);
  // A git commit (and the matching `commit` event).
  Status RecordCommit(const ledger::Commit& commit);

  // {"conversations": [...]}
  virtual Result<Json> ListConversations(const ledger::ConversationFilter& filter) = 0;
  // The conversation document.
  virtual Result<Json> GetConversation(const Uuid& id) = 0;
  // The trace document.
  virtual Result<Json> GetTrace(const Uuid& id) = 0;

  // One of the service's API routes (service/api_routes.h: deployments, advice, risk, log
  // ingest, tokens): its answer, or its error prefixed with `what`.
  virtual Result<Json> Call(const std::string& method, const std::string& path,
                            const std::map<std::string, std::string>& query, const Json& body,
                            const std::string& what) = 0;
};

// The data dir's ledger (FailedPrecondition when the data dir is not initialised), with the
// learning system over it ([learn] in config.toml) for advice and outcomes, as `serve` has.
Result<std::unique_ptr<SpineClient>> OpenLedgerClient(const Cli& cli);
// A server at `url` ("http://127.0.0.1:18800"), token from $CLAWBACK_TOKEN.
Result<std::unique_ptr<SpineClient>> OpenServerClient(const std::string& url,
                                                      int connect_timeout_ms = 3000);
// One POST of a JSON body to the server at `url` (token from $CLAWBACK_TOKEN), its answer
// decoded, errors mapped as for every other server call. `read_timeout_s` bounds the wait
// for the answer (long for snapshots).
Result<Json> PostToServer(const std::string& url, const std::string& path, const Json& body,
                          const std::string& what, int read_timeout_s);
// The server when one is configured (Cli::ServerUrl()), else the ledger.
Result<std::unique_ptr<SpineClient>> OpenSpineClient(const Cli& cli);

// The data dir's ledger, opened and migrated (FailedPrecondition when not initialised).
Result<std::unique_ptr<ledger::Ledger>> OpenDataDirLedger(const Cli& cli);

// "KIND=VALUE" → ExternalId; InvalidArgument naming the text otherwise.
Result<ledger::ExternalId> ParseExternalId(const std::string& text);
// A conversation id argument; InvalidArgument naming `what` when it is not a UUID.
Result<Uuid> ParseId(const std::string& text, const std::string& what = "conversation id");

// An event with a fresh id, stamped now (for records only the CLI writes, e.g. tokens).
ledger::Event NewEvent(const std::optional<Uuid>& conversation_id, const std::string& kind,
                       const Json& attributes, const std::string& actor);

}  // namespace clawback::cli
