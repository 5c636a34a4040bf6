// SqlLedger: the Ledger interface implemented once over SqlConnection, for both SQLite and
// PostgreSQL (docs/format/ledger-schema.md has the tables and the chain).
//
// Writes: one writer connection behind a mutex. A group is one transaction; each batch runs
// inside a SAVEPOINT so a failing batch is rolled back alone. The chain's tail (last seq and
// hash) is read once per transaction after taking the engine's chain lock, so several
// processes may write the same ledger and the chain stays linear. On a connection that
// pipelines (PostgreSQL), a group is first sent whole, without savepoints, in two round trips
// (up to reading the chain's tail, then the rest and COMMIT) instead of one per statement; if
// anything in it fails, it is rolled back and run again the savepoint way, so errors are still
// reported on the batch that caused them and a bad batch sinks no other.
// Reads: a small pool of reader connections, each read in its own snapshot transaction, so
// reads run concurrently with the writer (SQLite WAL; PostgreSQL MVCC).
//
// Thread-safety: safe to call from many threads.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "common/uuid.h"
#include "ledger/ledger.h"
#include "ledger/row_seal.h"
#include "ledger/sql_connection.h"
#include "ledger/sql_statements.h"

namespace clawback::ledger {

class SqlLedger : public Ledger {
 public:
  // `connect` opens a new connection; it is called for the writer and for each reader.
  SqlLedger(Dialect dialect, SqlConnector connect, const Clock& clock);
  ~SqlLedger() override;

  // Opens the writer connection now, so that a bad URL or path fails at open time.
  Status Open();

  // Ledger
  std::string_view backend() const override { return dialect_.name; }
  Status Migrate() override;
  Result<int> SchemaVersion() override;
  Status Apply(const WriteBatch& batch) override;
  std::vector<Status> ApplyGroup(const std::vector<const WriteBatch*>& batches) override;
  Result<Conversation> GetConversation(const Uuid& id) override;
  Result<std::optional<Conversation>> FindConversationByExternal(const std::string& kind,
                                                                 const std::string& value) override;
  Result<std::vector<Conversation>> ListConversations(const ConversationFilter& f) override;
  Result<Trace> GetTrace(const Uuid& id) override;
  Result<Deployment> GetDeployment(const Uuid& id) override;
  Result<std::vector<Deployment>> ListDeployments(const DeploymentFilter& f) override;
  Result<std::vector<RollbackRecord>> ListRollbacksFor(const std::string& target_kind,
                                                       const std::string& target) override;
  Result<std::optional<Commit>> GetCommit(const std::string& sha) override;
  Result<std::optional<Token>> FindTokenByHash(const std::string& hash) override;
  Result<int64_t> CountTokens() override;
  Result<std::vector<Token>> ListTokens() override;
  Result<bool> TouchToken(const Uuid& id, int64_t at_ms) override;
  Result<std::vector<Event>> ReadEventsAfter(int64_t after_seq, int limit) override;
  Result<std::optional<int64_t>> GetCursor(const std::string& name) override;
  Status SetCursor(const std::string& name, int64_t seq) override;
  Result<LeaseResult> TryAcquireLease(const std::string& name, const std::string& holder,
                                      int64_t ttl_ms, int64_t now_ms) override;
  Result<bool> ReleaseLease(const std::string& name, const std::string& holder) override;
  Result<VerifyReport> VerifyChain() override;
  Result<LedgerStats> Stats() override;

  // How many groups failed whole and were run again with a savepoint per batch.
  int64_t TEST_GroupFallbacks() const { return group_fallbacks_.load(); }

 private:
  struct ChainTail {
    bool loaded = false;
    int64_t seq = 0;
    std::string hash;
  };

  Result<std::unique_ptr<SqlConnection>> AcquireReader();
  void ReleaseReader(std::unique_ptr<SqlConnection> conn);
  // Runs fn(conn) inside a read snapshot on a pooled reader.
  template <typename Fn>
  auto WithReader(Fn&& fn) -> decltype(fn(std::declval<SqlConnection&>()));

  Result<int> SchemaVersionOn(SqlConnection& conn);
  // Runs fn(conn) in a write transaction of its own on the writer connection, without the
  // chain lock (bookkeeping outside the chain: token last use, cursors, leases); commits
  // when fn succeeds, else rolls back. `what` prefixes errors.
  template <typename Fn>
  auto WithBookkeepingWrite(const char* what, Fn&& fn)
      -> decltype(fn(std::declval<SqlConnection&>()));
  // The whole group in one transaction with no savepoints, pipelined when the connection
  // can (PostgreSQL: two round trips in all); on an error, rolled back (nothing landed).
  // Savepoints cost SQLite a statement journal per request, and PostgreSQL round trips.
  // REQUIRES: write_mu_ held.
  Status ApplyGroupWhole(SqlConnection& conn, const std::vector<const WriteBatch*>& batches);
  // One transaction, a SAVEPOINT per batch: a result per batch. REQUIRES: write_mu_ held.
  std::vector<Status> ApplyGroupBySavepoint(SqlConnection& conn,
                                            const std::vector<const WriteBatch*>& batches);
  // `multi_row`: tool calls and commands as multi-row upserts (the whole-group path, whose
  // errors are not reported as they are anyway; the savepoint path names the failing op).
  Status ApplyBatch(SqlConnection& conn, const WriteBatch& batch, ChainTail* tail, bool multi_row);
  // Upserts the tool calls and commands at `*run` (indexes into batch.ops), a few
  // statements in all, and clears it. REQUIRES: write_mu_ held.
  Status UpsertRun(SqlConnection& conn, const WriteBatch& batch, std::vector<size_t>* run);
  Status ApplyOp(SqlConnection& conn, const WriteOp& op, ChainTail* tail);
  // Fails with NotFound, naming what() (called only then: most checks hit the cache, on
  // the writer's hot path), unless conversation `id` exists as the write transaction sees
  // it. Events, tool calls and commands are checked here rather than by a foreign key:
  // PostgreSQL's per-row key checks cost more than a third of its time on ingest (schema
  // version 2 drops them there). REQUIRES: write_mu_ held, in a write transaction.
  template <typename What>
  Status RequireConversation(SqlConnection& conn, const Uuid& id, const What& what) {
    if (known_conversations_.count(id) != 0 || txn_conversations_.count(id) != 0) {
      return Status::Ok();
    }
    return LookUpConversation(conn, id, what());
  }
  // RequireConversation's database lookup, for an id neither cache holds.
  Status LookUpConversation(SqlConnection& conn, const Uuid& id, const std::string& what);
  // Keeps the conversations the write transaction saw when it committed. REQUIRES: write_mu_.
  void EndWriteTransaction(bool committed);
  // Reads the chain's last seq and hash into *tail unless it holds them already.
  // REQUIRES: in the write transaction, under the chain lock.
  Status LoadChainTail(SqlConnection& conn, ChainTail* tail);
  // Reads the chain's tail into *tail and makes it the anchor of the seals this transaction
  // writes (row_seal.h). Run first in every chain write transaction, under the chain lock.
  Status StartSealing(SqlConnection& conn, ChainTail* tail);
  // Appends the seal's anchor (seq, hash) to the parameters of a sealed table's write.
  void AddSealAnchor(std::vector<SqlValue>* params) const;
  // Appends events to the chain, up to kMaxEventRows per INSERT; `op_index[k]` is run[k]'s
  // index in its batch (for error messages).
  Status AppendEvents(SqlConnection& conn, const std::vector<const Event*>& run,
                      const std::vector<size_t>& op_index, ChainTail* tail);

  // The schema version that added row seals (its migration seals the rows already there).
  static constexpr int kRowSealVersion = 4;
  static constexpr size_t kMaxEventRows = kMaxStatementRows;
  static constexpr size_t kMaxUpsertRows = kMaxStatementRows;

  Dialect dialect_;
  SqlConnector connect_;
  const Clock& clock_;
  UuidV7Generator ids_;

  std::atomic<int64_t> group_fallbacks_{0};
  std::mutex write_mu_;
  std::unique_ptr<SqlConnection> writer_;  // GUARDED_BY(write_mu_)
  // The chain position the open write transaction's seals are anchored at: its tail when the
  // transaction began (committed, so it stays in the chain whatever this one rolls back).
  int64_t seal_seq_ = 0;     // GUARDED_BY(write_mu_)
  std::string seal_hash_;    // GUARDED_BY(write_mu_)
  // Every table's INSERT or upsert, by rows; EndConversation's UPDATE.
  WriteStatements writes_{dialect_};  // GUARDED_BY(write_mu_)
  std::string end_conversation_sql_;
  // Conversations known to exist: rows of `conversations` are never deleted, so an id seen
  // once stays good. `txn_` holds those seen in the open write transaction (created or looked
  // up); they join `known_` only when it commits.
  struct UuidHash {
    size_t operator()(const Uuid& id) const noexcept {
      uint64_t h = 0;
      for (size_t i = 8; i < 16; ++i) h = (h << 8) | id.bytes()[i];  // the random bits
      return static_cast<size_t>(h);
    }
  };
  static constexpr size_t kMaxKnownConversations = 1 << 16;
  std::unordered_set<Uuid, UuidHash> known_conversations_;  // GUARDED_BY(write_mu_)
  std::unordered_set<Uuid, UuidHash> txn_conversations_;    // GUARDED_BY(write_mu_)

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<SqlConnection>> readers_;  // GUARDED_BY(pool_mu_)
};

// ---------------------------------------------------------------------------------------
// The transaction templates, shared by the implementation files (sql_ledger.cc: bookkeeping,
// migrations; sql_ledger_reads.cc).

namespace sql_ledger_internal {
inline const Status& StatusOf(const Status& st) { return st; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}
}  // namespace sql_ledger_internal

template <typename Fn>
auto SqlLedger::WithReader(Fn&& fn) -> decltype(fn(std::declval<SqlConnection&>())) {
  auto acquired = AcquireReader();
  if (!acquired.ok()) return acquired.status();
  std::unique_ptr<SqlConnection> conn = std::move(acquired).value();
  if (Status st = conn->Exec(dialect_.begin_read); !st.ok()) {
    // A broken connection is not returned to the pool.
    return st;
  }
  auto result = fn(*conn);
  Status end = conn->Exec("COMMIT");
  if (end.ok()) ReleaseReader(std::move(conn));
  return result;
}

template <typename Fn>
auto SqlLedger::WithBookkeepingWrite(const char* what, Fn&& fn)
    -> decltype(fn(std::declval<SqlConnection&>())) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (!writer_) {
    auto opened = connect_();
    if (!opened.ok()) return opened.status();
    writer_ = std::move(opened).value();
  }
  SqlConnection& c = *writer_;
  RETURN_IF_ERROR(c.Exec(dialect_.begin_write).WithContext(what));
  auto result = fn(c);
  if (const Status& st = sql_ledger_internal::StatusOf(result); !st.ok()) {
    c.Exec("ROLLBACK").IgnoreError();
    return st.WithContext(what);
  }
  RETURN_IF_ERROR(c.Exec("COMMIT").WithContext(what));
  return result;
}

}  // namespace clawback::ledger
