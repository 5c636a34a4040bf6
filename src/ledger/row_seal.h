// Row seals: what makes a hand edit of a projection row visible to `clawback ledger verify`.
//
// The event chain covers the events; the rows `trace` prints come from projection tables
// (conversations, tool_calls, commands, file_changes, commits, deployments, snapshots,
// backups, rollbacks) that upserts change in place, so a chain over them is not possible.
// Instead each row carries a seal (schema version 4): row_seq, the seq of the last event in
// the chain when the row was last written, and row_hash, the hex SHA-256 of
//   "clawback.row.v1\n" || hash of event row_seq ("" when 0) || "\n" || table || "\n" ||
//   for each column, in the table's column order: "N" (NULL) or "S" len ":" text
// where `text` is the column as the engine returns it (integers in decimal). Every statement
// that writes a row stores its seal too, computed by the engine from the values it writes
// (sql_statements.h), anchored at the chain's tail as the write transaction found it (under
// the chain lock, so a committed event); so a row's seal links it into the verified chain,
// and a row edited outside clawback no longer matches its seal. A row written twice in one
// transaction ends with the seal of its last write; a rolled-back write takes its seal with
// it. docs/format/ledger-schema.md describes it.
//
// Thread-safety: the functions are safe from any thread; each uses only the connection given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ledger/sql_connection.h"

namespace clawback::ledger {

enum class SealedTable : uint8_t {
  kConversations,
  kToolCalls,
  kCommands,
  kFileChanges,
  kCommits,
  kDeployments,
  kSnapshots,
  kBackups,
  kRollbacks,
};
inline constexpr size_t kSealedTableCount = 9;

struct SealedTableSpec {
  const char* name;
  std::vector<std::string> key;      // primary-key columns, in order
  std::vector<std::string> columns;  // every column the seal covers, the key first
};
const SealedTableSpec& SpecOf(SealedTable t);

// The seal of one row: `row` holds the spec's columns in order, as selected.
std::string RowSeal(const std::string& chain_hash, std::string_view table, const SqlRow& row);

// The engine-computed seal (Dialect::seal_expression) over `columns`, SQL expressions for
// the row's values. PostgreSQL's: sha256() over the same text RowSeal hashes.
std::string PostgresSealExpression(const std::string& chain_param, const std::string& table,
                                   const std::vector<std::string>& columns);
// SQLite's: a call of the clawback_row_seal function (RegisterSqliteSealFunction).
std::string SqliteSealExpression(const std::string& chain_param, const std::string& table,
                                 const std::vector<std::string>& columns);

// Migration 4 (both engines): the seal columns on every sealed table.
std::string SealColumnsMigrationSql();

// Seals every row of every sealed table with the chain's tail at (seq, hash) (migration 4 on
// a ledger that has rows already).
Status SealAllRows(SqlConnection& c, int64_t seq, const std::string& chain_hash);

// A projection row whose content does not match its seal.
struct RowProblem {
  std::string table;
  std::string row;  // its key, "id=…" or "conversation_id=…, tool_call_id=…"
  std::string problem;
};

// Checks every row of every sealed table against its seal and the chain (the caller has
// verified the chain). Stops at the first problem. Adds the rows checked to *rows_checked.
Result<std::optional<RowProblem>> VerifyRowSeals(SqlConnection& c, int64_t* rows_checked);

}  // namespace clawback::ledger
