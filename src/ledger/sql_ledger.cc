// SqlLedger (sql_ledger.h): construction, the connections, migrations and the bookkeeping
// writes outside the chain (token last use, cursors, leases). The rest of it lives by job:
// sql_ledger_writes.cc (the write path: groups, batches, upserts, the chain, row seals),
// sql_ledger_reads.cc (every read), sql_statements.cc (the SQL text) and sql_codec.cc
// (rows <-> structs).
#include "ledger/sql_ledger.h"

#include <utility>

#include "ledger/row_seal.h"
#include "ledger/sql_codec.h"
#include "ledger/sql_statements.h"

namespace clawback::ledger {

// ---------------------------------------------------------------------------------------
// Construction and connections

SqlLedger::SqlLedger(Dialect dialect, SqlConnector connect, const Clock& clock)
    : dialect_(std::move(dialect)),
      connect_(std::move(connect)),
      clock_(clock),
      ids_(clock),
      end_conversation_sql_(EndConversationSql(dialect_)) {}

SqlLedger::~SqlLedger() = default;

Status SqlLedger::Open() {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (writer_) return Status::Ok();
  ASSIGN_OR_RETURN(writer_, connect_());
  return Status::Ok();
}

Result<std::unique_ptr<SqlConnection>> SqlLedger::AcquireReader() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!readers_.empty()) {
      auto c = std::move(readers_.back());
      readers_.pop_back();
      return c;
    }
  }
  return connect_();
}

void SqlLedger::ReleaseReader(std::unique_ptr<SqlConnection> conn) {
  constexpr size_t kMaxIdleReaders = 8;
  std::lock_guard<std::mutex> lock(pool_mu_);
  if (readers_.size() < kMaxIdleReaders) readers_.push_back(std::move(conn));
}

// ---------------------------------------------------------------------------------------
// Migrations

Result<int> SqlLedger::SchemaVersionOn(SqlConnection& conn) {
  std::vector<SqlRow> rows;
  RETURN_IF_ERROR(conn.Query(dialect_.table_exists, {Text("schema_migrations")}, &rows));
  if (rows.empty()) return 0;
  rows.clear();
  RETURN_IF_ERROR(conn.Query("SELECT MAX(version) FROM schema_migrations", {}, &rows));
  if (rows.empty()) return 0;
  return static_cast<int>(RowInt(rows[0], 0));
}

Result<int> SqlLedger::SchemaVersion() {
  return WithReader([&](SqlConnection& c) { return SchemaVersionOn(c); });
}

Status SqlLedger::Migrate() {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (!writer_) {
    ASSIGN_OR_RETURN(writer_, connect_());
  }
  SqlConnection& c = *writer_;
  RETURN_IF_ERROR(c.Exec(dialect_.begin_write).WithContext("ledger migrate"));
  auto run = [&]() -> Status {
    if (!dialect_.lock_migrations.empty()) RETURN_IF_ERROR(c.Exec(dialect_.lock_migrations));
    RETURN_IF_ERROR(c.Exec(kCreateSchemaMigrations));
    ASSIGN_OR_RETURN(int current, SchemaVersionOn(c));
    const auto& migrations = *dialect_.migrations;
    int latest = migrations.empty() ? 0 : migrations.back().version;
    if (current > latest) {
      return FailedPrecondition("ledger schema version " + std::to_string(current) +
                                " is newer than this clawback understands (" +
                                std::to_string(latest) + "); upgrade clawback");
    }
    for (const Migration& m : migrations) {
      if (m.version <= current) continue;
      RETURN_IF_ERROR(c.Exec(m.sql).WithContext("migration " + std::to_string(m.version) +
                                                " (" + m.name + ")"));
      RETURN_IF_ERROR(c.Query(kInsertMigration,
                              {Int(m.version), Text(m.name), Int(clock_.NowUnixMillis())},
                              nullptr));
    }
    if (current < kRowSealVersion && latest >= kRowSealVersion) {
      // Rows written before seals existed are sealed now, with the chain as it stands.
      ChainTail tail;
      RETURN_IF_ERROR(LoadChainTail(c, &tail));
      RETURN_IF_ERROR(SealAllRows(c, tail.seq, tail.hash)
                          .WithContext("migration " + std::to_string(kRowSealVersion)));
    }
    return Status::Ok();
  };
  Status st = run();
  if (!st.ok()) {
    c.Exec("ROLLBACK").IgnoreError();
    return st.WithContext("ledger migrate");
  }
  RETURN_IF_ERROR(c.Exec("COMMIT").WithContext("ledger migrate"));
  c.ResetStatements();
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Bookkeeping writes: outside the chain (no chain lock, no seal)

Result<bool> SqlLedger::TouchToken(const Uuid& id, int64_t at_ms) {
  return WithBookkeepingWrite("token last use", [&](SqlConnection& c) -> Result<bool> {
    int64_t changed = 0;
    RETURN_IF_ERROR(
        c.Query(kTouchToken, {IdText(id), Int(at_ms), Int(at_ms - 60000)}, nullptr, &changed));
    return changed > 0;
  });
}

Status SqlLedger::SetCursor(const std::string& name, int64_t seq) {
  if (name.empty()) return InvalidArgument("cursor: name is empty");
  const std::string what = "cursor " + name;
  return WithBookkeepingWrite(what.c_str(), [&](SqlConnection& c) {
    return c.Query(kSetCursor, {Text(name), Int(seq), Int(clock_.NowUnixMillis())}, nullptr);
  });
}

Result<LeaseResult> SqlLedger::TryAcquireLease(const std::string& name, const std::string& holder,
                                               int64_t ttl_ms, int64_t now_ms) {
  if (name.empty()) return InvalidArgument("lease: name is empty");
  if (holder.empty()) return InvalidArgument("lease " + name + ": holder is empty");
  if (ttl_ms <= 0) return InvalidArgument("lease " + name + ": ttl must be positive");
  const std::string what = "lease " + name;
  return WithBookkeepingWrite(what.c_str(), [&](SqlConnection& c) -> Result<LeaseResult> {
    // One statement decides: the row is written only when free, expired or ours, and the
    // engine serialises writers of one row (SQLite: BEGIN IMMEDIATE; PostgreSQL: the row
    // lock ON CONFLICT takes, re-checking the WHERE against the committed row).
    int64_t changed = 0;
    RETURN_IF_ERROR(c.Query(kAcquireLease, {Text(name), Text(holder), Int(now_ms),
                                            Int(now_ms + ttl_ms)},
                            nullptr, &changed));
    std::vector<SqlRow> rows;
    RETURN_IF_ERROR(c.Query(kGetLease, {Text(name)}, &rows));
    LeaseResult r;
    r.lease.name = name;
    if (!rows.empty()) {
      r.lease.holder = RowStr(rows[0], 0);
      r.lease.acquired_at_ms = RowInt(rows[0], 1);
      r.lease.expires_at_ms = RowInt(rows[0], 2);
    }
    r.acquired = changed > 0 && r.lease.holder == holder;
    return r;
  });
}

Result<bool> SqlLedger::ReleaseLease(const std::string& name, const std::string& holder) {
  if (name.empty()) return InvalidArgument("lease: name is empty");
  const std::string what = "lease " + name;
  return WithBookkeepingWrite(what.c_str(), [&](SqlConnection& c) -> Result<bool> {
    int64_t changed = 0;
    RETURN_IF_ERROR(c.Query(kReleaseLease, {Text(name), Text(holder)}, nullptr, &changed));
    return changed > 0;
  });
}

}  // namespace clawback::ledger
