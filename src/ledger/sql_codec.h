// Rows <-> structs for SqlLedger (sql_ledger.h): the parameters a write binds and the
// structs a read decodes, for both engines.
//
// Encoders append one row's parameters in the column order of the table's TableSpec
// (sql_statements.h), binding what counts as "not given" (an unset optional, an empty string,
// a zero time, an empty JSON object) as NULL, so an upsert keeps the stored value. Decoders
// read a row selected with the table's SelectList, by position.
//
// Internal to the ledger. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/uuid.h"
#include "ledger/ledger.h"
#include "ledger/sql_connection.h"

namespace clawback::ledger {

// --- Parameters

inline SqlValue Null() { return std::monostate{}; }
inline SqlValue Int(int64_t v) { return v; }
inline SqlValue Text(std::string s) { return s; }
inline SqlValue OptInt(const std::optional<int64_t>& v) { return v ? SqlValue(*v) : Null(); }
inline SqlValue OptInt(const std::optional<int>& v) {
  return v ? SqlValue(int64_t{*v}) : Null();
}
// An empty string or a zero time means "not given": NULL, so an upsert keeps the stored value.
inline SqlValue NonEmpty(const std::string& s) { return s.empty() ? Null() : SqlValue(s); }
inline SqlValue NonZero(int64_t v) { return v == 0 ? Null() : SqlValue(v); }
inline SqlValue IdText(const Uuid& id) { return id.ToString(); }
inline SqlValue OptId(const std::optional<Uuid>& id) {
  return id ? SqlValue(id->ToString()) : Null();
}
// An empty object (or null) means "not given".
SqlValue JsonGiven(const Json& j);
// The JSON's stored text; null is stored as {}.
SqlValue JsonText(const Json& j);
SqlValue StringList(const std::vector<std::string>& v);

// --- Values out of rows (besides RowInt, RowOptInt, RowStr, RowIsNull of sql_connection.h)

Json ParseJsonOr(const std::string& text, Json fallback);
std::vector<std::string> ParseStringList(const std::string& text);
Uuid RowUuid(const SqlRow& row, size_t i);
std::optional<Uuid> RowOptUuid(const SqlRow& row, size_t i);
std::optional<int> RowOptInt32(const SqlRow& row, size_t i);

// --- Encoders: one row's parameters, in the table's column order
// (`now_ms` fills a start or creation time the write leaves at 0).

void EncodeConversation(const Conversation& v, int64_t now_ms, std::vector<SqlValue>* p);
void EncodeToolCall(const ToolCall& v, std::vector<SqlValue>* p);
void EncodeCommand(const Command& v, std::vector<SqlValue>* p);
void EncodeFileChange(const FileChange& v, std::vector<SqlValue>* p);
void EncodeCommit(const Commit& v, std::vector<SqlValue>* p);
void EncodeDeployment(const Deployment& v, std::vector<SqlValue>* p);
void EncodeSnapshot(const SnapshotRecord& v, std::vector<SqlValue>* p);
void EncodeBackup(const BackupRecord& v, std::vector<SqlValue>* p);
void EncodeRollback(const RollbackRecord& v, std::vector<SqlValue>* p);
void EncodeToken(const Token& v, int64_t now_ms, std::vector<SqlValue>* p);

// --- Decoders: a row selected with the table's SelectList (tokens: + last_used_at_ms)

Conversation DecodeConversation(const SqlRow& r);  // without its external ids
Event DecodeEvent(const SqlRow& r);
ToolCall DecodeToolCall(const SqlRow& r);
Command DecodeCommand(const SqlRow& r);
FileChange DecodeFileChange(const SqlRow& r);
Commit DecodeCommit(const SqlRow& r);
Deployment DecodeDeployment(const SqlRow& r);
SnapshotRecord DecodeSnapshot(const SqlRow& r);
BackupRecord DecodeBackup(const SqlRow& r);
RollbackRecord DecodeRollback(const SqlRow& r);
Token DecodeToken(const SqlRow& r);

}  // namespace clawback::ledger
