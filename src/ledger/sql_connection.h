// The seam between the ledger's logic (SqlLedger, written once) and a SQL engine.
//
// SqlLedger speaks a small common subset of SQL that SQLite and PostgreSQL both accept
// (numbered parameters $1…$N, INSERT … ON CONFLICT … DO UPDATE, SAVEPOINT, CAST); each
// engine supplies a SqlConnection and a Dialect: its migrations and the few statements
// that differ (how to begin a write transaction, how to lock the event chain, …).
//
// Errors come back already classified: a unique-key violation is AlreadyExists, a foreign
// key naming a missing row is NotFound, a missing table is FailedPrecondition (the ledger
// was never migrated), a busy database is Locked, an unreachable server Unavailable.
//
// Pipelining (optional; PostgreSQL has it, SQLite needs none since it has no round trips):
// between BeginPipeline and EndPipeline, a statement whose caller wants nothing back is only
// queued, so a whole transaction costs a round trip or two instead of one per statement.
//
// Thread-safety: a SqlConnection is used by one thread at a time (SqlLedger pools them).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"

namespace clawback::ledger {

// NULL, an integer or text. PostgreSQL returns every non-NULL column as text; the Row
// accessors below convert.
using SqlValue = std::variant<std::monostate, int64_t, std::string>;
using SqlRow = std::vector<SqlValue>;

// A column's type, as far as SQL generated for both engines needs it (a row seal computed
// from parameters must see them as the column stores them: PostgreSQL prints a uuid or a
// bigint its own way, so a parameter is cast to the column's type first).
enum class SqlType : uint8_t { kText, kInt, kUuid };

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;

  // Runs one or more statements without parameters (DDL, BEGIN, COMMIT, …).
  virtual Status Exec(const std::string& sql) = 0;

  // Runs one statement with parameters $1…$N, prepared once per connection and cached by
  // its text. Appends result rows to *rows when it is not null; stores the number of rows
  // changed in *changes when it is not null.
  virtual Status Query(const std::string& sql, const std::vector<SqlValue>& params,
                       std::vector<SqlRow>* rows, int64_t* changes = nullptr) = 0;

  // Forgets the prepared statements (after a schema change).
  // REQUIRES: not in a pipeline.
  virtual void ResetStatements() = 0;

  // Whether BeginPipeline can succeed on this connection.
  virtual bool SupportsPipeline() const { return false; }

  // Enters pipeline mode. Until EndPipeline:
  //  - Exec (one statement only) and a Query with neither `rows` nor `changes` are queued
  //    and return OK; their errors come back later.
  //  - A Query that wants `rows` or `changes` sends everything queued, waits for all of it
  //    and returns the first error among it (its own included), else its own result.
  //  - After a failed statement the server skips everything queued after it up to that
  //    wait, so the caller should stop, end the pipeline and roll back.
  // A connection lost since the last transaction is re-established here.
  // REQUIRES: SupportsPipeline(); not already in a pipeline.
  virtual Status BeginPipeline() { return FailedPrecondition("this connection has no pipeline"); }

  // Sends everything queued, waits for all of it, leaves pipeline mode (even on error) and
  // returns the first error among what was still unanswered.
  virtual Status EndPipeline() { return Status::Ok(); }
};

using SqlConnector = std::function<Result<std::unique_ptr<SqlConnection>>()>;

struct Migration {
  int version;
  const char* name;
  const char* sql;  // one or more statements
};

struct Dialect {
  std::string name;               // "sqlite" or "postgresql"
  std::string begin_write;        // starts a write transaction
  std::string begin_read;         // starts a read-only snapshot
  std::string lock_chain;         // run right after begin_write: excludes other writers
                                  // ("" when begin_write already does)
  std::string lock_migrations;    // run at the start of Migrate's transaction, or ""
  std::string table_exists;       // one row when table $1 exists
  std::string size_bytes;         // one row, one integer: the database's size on disk
  // An SQL expression for a row's seal (row_seal.h) over `columns` (SQL expressions giving
  // the row's values as stored, in the sealed column order), with the chain hash bound as
  // parameter `chain_param` ("$7"): the writer computes the seal inside the statement that
  // writes the row (sql_statements.h) and reads nothing back. SQLite calls a function its
  // connections register (clawback_row_seal); PostgreSQL computes it with sha256().
  std::string (*seal_expression)(const std::string& chain_param, const std::string& table,
                                 const std::vector<std::string>& columns) = nullptr;
  // `expr` (a parameter) as a value of `type`, or null when the engine needs no cast
  // (SQLite, whose columns take the value as bound). PostgresTyped (sql_statements.h).
  std::string (*typed)(SqlType type, const std::string& expr) = nullptr;
  const std::vector<Migration>* migrations;
};

// Reads typed values out of a row, whichever engine produced it.
int64_t RowInt(const SqlRow& row, size_t i);
std::optional<int64_t> RowOptInt(const SqlRow& row, size_t i);
std::string RowStr(const SqlRow& row, size_t i);
bool RowIsNull(const SqlRow& row, size_t i);

}  // namespace clawback::ledger
