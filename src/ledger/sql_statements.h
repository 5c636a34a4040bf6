// The SQL text of SqlLedger (sql_ledger.h), written once for both engines: the column list
// of every table, the statements generated from it, and the few fixed statements.
//
// Each table's columns are listed once (TableSpec), in the table's order. From that list come
// its SELECT column list (which the decoders of sql_codec.h read by position), its INSERT or
// upsert for one or many rows, and the "not given" rule of the upsert: in an update a column
// that the write does not give keeps its stored value, and MergeUpsertRow folds two writes
// of one row into one by the same rule. A value is not given when it is NULL (the encoders of
// sql_codec.h bind an unset optional, an empty string, a zero time and an empty JSON object
// as NULL) or equal to the column's fallback (what an insert stores for NULL: '', '{}', '[]',
// 0, or a status's initial value such as 'started', which therefore never overwrites a later
// status). docs/format/ledger-schema.md ("Write semantics") states the same rule.
//
// Internal to the ledger. Thread-safety: the specs and the functions are safe from any
// thread; a WriteStatements belongs to one thread at a time (the writer's mutex).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/sql_connection.h"

namespace clawback::ledger {

std::string Cat(std::initializer_list<std::string_view> parts);

// How an upsert writes a column of a row that exists already.
enum class OnConflict : uint8_t {
  kKey,        // part of the conflict key
  kIfGiven,    // the new value when given, else the stored one
  kKeep,       // the first write's value, never changed (conversations.started_at_ms)
  kOverwrite,  // always the new value (tokens)
};

// What an insert stores when the value is NULL; for kIfGiven also a value that counts as
// not given.
enum class Fallback : uint8_t {
  kNone,  // nothing: NULL stays NULL
  kText,  // Column::text, a string
  kZero,  // the integer 0
};

struct Column {
  const char* name;
  OnConflict on_conflict = OnConflict::kIfGiven;
  Fallback fallback = Fallback::kNone;
  const char* text = "";  // for Fallback::kText (no quotes inside)
  SqlType type = SqlType::kText;
};

enum class Table : uint8_t {
  kConversations,
  kEvents,
  kToolCalls,
  kCommands,
  kFileChanges,
  kCommits,
  kDeployments,
  kSnapshots,
  kBackups,
  kRollbacks,
  kTokens,
};
inline constexpr size_t kTableCount = 11;

struct TableSpec {
  Table id;
  const char* name;
  bool upsert;  // ON CONFLICT (its kKey columns) DO UPDATE; false: insert-only
  bool sealed;  // a projection whose rows carry a seal (row_seal.h)
  std::span<const Column> columns;
};
const TableSpec& TableSpecOf(Table t);

// "a, b, c", each prefixed by `alias` + "." when `alias` is not empty.
std::string SelectList(const TableSpec& t, std::string_view alias = "");
// The INSERT (insert-only tables) or upsert of `rows` rows, for dialect `d`; row r's
// parameters are $(r*N+1)…$(r*N+N) in column order (N columns). A sealed table's statement
// takes two more, $(rows*N+1) and $(rows*N+2): the seq and hash of the chain position its
// seals are anchored at (row_seq, and the hash in row_hash), and stores every row it writes
// with its seal over the values it writes (an update's merged values).
std::string WriteSql(const TableSpec& t, size_t rows, const Dialect& d);
// EndConversation's UPDATE, sealing the row it changes: $1 id, $2 status, $3 ended_at_ms,
// $4 and $5 the seal's anchor (seq, hash).
std::string EndConversationSql(const Dialect& d);
// PostgreSQL's Dialect::typed: CAST(expr AS uuid | bigint | text).
std::string PostgresTyped(SqlType type, const std::string& expr);

// Whether `v`, bound for column `c`, counts as not given (the upsert keeps the stored value).
bool NotGiven(const Column& c, const SqlValue& v);
// Folds the next write of a row into `row` (both one row's parameters, in column order) the
// way the upsert applies it, so that inserting the result, or applying it to a stored row,
// gives what applying the two writes one after the other would: each kIfGiven column ends
// with its last given value, else its first value.
void MergeUpsertRow(const TableSpec& t, std::vector<SqlValue>&& next, SqlValue* row);

// Most rows in one generated statement (events, tool calls, commands).
inline constexpr size_t kMaxStatementRows = 64;

// WriteSql(t, rows, d) for every table and 1…kMaxStatementRows rows, each built on first use.
class WriteStatements {
 public:
  // `d` must outlive this object.
  explicit WriteStatements(const Dialect& d) : dialect_(d) {}
  // REQUIRES: 1 <= rows <= kMaxStatementRows.
  const std::string& For(Table t, size_t rows);

 private:
  const Dialect& dialect_;
  std::array<std::array<std::string, kMaxStatementRows + 1>, kTableCount> sql_;
};

// --- Fixed statements ($n parameters)

extern const char* const kInsertExternalId;     // conversation_id, kind, value
extern const char* const kSelectExternalIds;    // conversation_id
extern const char* const kChainTail;            // the chain's last seq and hash
extern const char* const kConversationExists;   // id
extern const char* const kTouchToken;           // id, at_ms, at_ms - 60000

extern const char* const kInsertMigration;      // version, name, applied_at_ms
extern const char* const kCreateSchemaMigrations;
// Followers (schema version 5): bookkeeping outside the chain and the row seals.
extern const char* const kGetCursor;     // name
extern const char* const kSetCursor;     // name, seq, updated_at_ms
extern const char* const kAcquireLease;  // name, holder, now_ms, expires_at_ms
extern const char* const kGetLease;      // name
extern const char* const kReleaseLease;  // name, holder

}  // namespace clawback::ledger
