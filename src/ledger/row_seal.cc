#include "ledger/row_seal.h"

#include <algorithm>

#include "ledger/ledger_internal.h"

namespace clawback::ledger {
namespace {

const SealedTableSpec kSpecs[kSealedTableCount] = {
    {"conversations",
     {"id"},
     {"id", "source", "title", "agent", "started_at_ms", "ended_at_ms", "status", "previous_id",
      "attributes"}},
    {"tool_calls",
     {"conversation_id", "tool_call_id"},
     {"conversation_id", "tool_call_id", "name", "params", "status", "exit_code", "duration_ms",
      "started_at_ms", "finished_at_ms", "result", "error", "run_id"}},
    {"commands",
     {"id"},
     {"id", "conversation_id", "argv", "cwd", "exit_code", "started_at_ms", "duration_ms",
      "tool_call_id"}},
    {"file_changes",
     {"id"},
     {"id", "conversation_id", "path", "change", "time_ms", "tool_call_id", "attributes"}},
    {"commits",
     {"sha"},
     {"sha", "conversation_id", "repo", "branch", "message", "author", "files", "trailer",
      "time_ms"}},
    {"deployments",
     {"id"},
     {"id", "conversation_id", "environment", "commit_sha", "status", "started_at_ms",
      "finished_at_ms", "attributes"}},
    {"snapshots",
     {"snapshot_id"},
     {"snapshot_id", "conversation_id", "repository", "reason", "paths", "tags", "time_ms",
      "stats"}},
    {"backups",
     {"id"},
     {"id", "job", "snapshot_id", "status", "started_at_ms", "finished_at_ms", "attributes"}},
    {"rollbacks",
     {"id"},
     {"id", "conversation_id", "target_kind", "target", "mode", "status", "pre_snapshot_id",
      "started_at_ms", "finished_at_ms", "plan"}},
};

constexpr int64_t kVerifyPage = 5000;

std::string ColumnList(const SealedTableSpec& s, const char* prefix) {
  std::string out;
  for (const std::string& c : s.columns) {
    if (!out.empty()) out += ", ";
    out += prefix;
    out += c;
  }
  return out;
}

// "k1 = $n AND k2 = $n+1", parameters from `first`.
std::string KeyMatch(const SealedTableSpec& s, size_t first) {
  std::string out;
  for (size_t k = 0; k < s.key.size(); ++k) {
    if (k) out += " AND ";
    out += s.key[k] + " = $" + std::to_string(first + k);
  }
  return out;
}

// Rows after the key $first…: "(k1 > $1)" or "(k1 > $1 OR (k1 = $1 AND k2 > $2))".
std::string AfterKey(const SealedTableSpec& s, const char* prefix, size_t first) {
  std::string p = prefix;
  if (s.key.size() == 1) return "(" + p + s.key[0] + " > $" + std::to_string(first) + ")";
  std::string a = "$" + std::to_string(first), b = "$" + std::to_string(first + 1);
  return "(" + p + s.key[0] + " > " + a + " OR (" + p + s.key[0] + " = " + a + " AND " + p +
         s.key[1] + " > " + b + "))";
}

std::string OrderByKey(const SealedTableSpec& s, const char* prefix) {
  std::string out;
  for (const std::string& k : s.key) {
    if (!out.empty()) out += ", ";
    out += prefix + k;
  }
  return out;
}

std::string DescribeKey(const SealedTableSpec& s, const SqlRow& row, size_t offset) {
  std::string out;
  for (size_t k = 0; k < s.key.size(); ++k) {
    if (k) out += ", ";
    out += s.key[k] + "=" + RowStr(row, offset + k);
  }
  return out;
}

Status StoreSeal(SqlConnection& c, const SealedTableSpec& s, const SqlRow& row, int64_t seq,
                 const std::string& chain_hash) {
  std::vector<SqlValue> params = {seq, RowSeal(chain_hash, s.name, row)};
  for (size_t k = 0; k < s.key.size(); ++k) params.push_back(row[k]);
  std::string sql = std::string("UPDATE ") + s.name +
                    " SET row_seq = $1, row_hash = $2 WHERE " + KeyMatch(s, 3);
  return c.Query(sql, params, nullptr).WithContext(std::string("sealing a row of ") + s.name);
}

}  // namespace

const SealedTableSpec& SpecOf(SealedTable t) { return kSpecs[static_cast<size_t>(t)]; }

std::string RowSeal(const std::string& chain_hash, std::string_view table, const SqlRow& row) {
  std::string input = "clawback.row.v1\n";
  input += chain_hash;
  input += '\n';
  input += table;
  input += '\n';
  for (size_t i = 0; i < row.size(); ++i) {
    if (RowIsNull(row, i)) {
      input += 'N';
      continue;
    }
    std::string text = RowStr(row, i);
    input += 'S';
    input += std::to_string(text.size());
    input += ':';
    input += text;
  }
  return Sha256Hex(input);
}

std::string PostgresSealExpression(const std::string& chain_param, const std::string& table,
                                   const std::vector<std::string>& columns) {
  // The same text RowSeal hashes: every value as PostgreSQL prints it (what libpq returns,
  // so what VerifyRowSeals reads), lengths in bytes (the database is UTF-8).
  std::string e = "encode(sha256(convert_to('clawback.row.v1' || chr(10) || CAST(" + chain_param +
                  " AS TEXT) || chr(10) || '" + table + "' || chr(10)";
  for (const std::string& c : columns) {
    e += " || CASE WHEN " + c + " IS NULL THEN 'N' ELSE 'S' || octet_length(CAST(" + c +
         " AS TEXT)) || ':' || CAST(" + c + " AS TEXT) END";
  }
  e += ", 'UTF8')), 'hex')";
  return e;
}

std::string SqliteSealExpression(const std::string& chain_param, const std::string& table,
                                 const std::vector<std::string>& columns) {
  std::string e = "clawback_row_seal(" + chain_param + ", '" + table + "'";
  for (const std::string& c : columns) e += ", " + c;
  return e + ")";
}

std::string SealColumnsMigrationSql() {
  std::string sql;
  for (const SealedTableSpec& s : kSpecs) {
    sql += std::string("ALTER TABLE ") + s.name + " ADD COLUMN row_seq BIGINT;\n";
    sql += std::string("ALTER TABLE ") + s.name + " ADD COLUMN row_hash TEXT;\n";
  }
  return sql;
}

Status SealAllRows(SqlConnection& c, int64_t seq, const std::string& chain_hash) {
  for (const SealedTableSpec& s : kSpecs) {
    std::vector<SqlValue> after;
    for (;;) {
      std::string sql = "SELECT " + ColumnList(s, "") + " FROM " + s.name +
                        (after.empty() ? std::string() : " WHERE " + AfterKey(s, "", 1)) +
                        " ORDER BY " + OrderByKey(s, "") + " LIMIT 1000";
      std::vector<SqlRow> rows;
      RETURN_IF_ERROR(c.Query(sql, after, &rows).WithContext(std::string("sealing ") + s.name));
      for (const SqlRow& row : rows) RETURN_IF_ERROR(StoreSeal(c, s, row, seq, chain_hash));
      if (rows.size() < 1000) break;
      after.assign(rows.back().begin(), rows.back().begin() + s.key.size());
    }
  }
  return Status::Ok();
}

Result<std::optional<RowProblem>> VerifyRowSeals(SqlConnection& c, int64_t* rows_checked) {
  for (const SealedTableSpec& s : kSpecs) {
    std::vector<SqlValue> after;
    for (;;) {
      // row_seq, row_hash, the chain's hash at row_seq, then the columns.
      std::string sql = "SELECT t.row_seq, t.row_hash, e.hash, " + ColumnList(s, "t.") +
                        " FROM " + s.name + " AS t LEFT JOIN events AS e ON e.seq = t.row_seq" +
                        (after.empty() ? std::string() : " WHERE " + AfterKey(s, "t.", 1)) +
                        " ORDER BY " + OrderByKey(s, "t.") + " LIMIT " +
                        std::to_string(kVerifyPage);
      std::vector<SqlRow> rows;
      RETURN_IF_ERROR(c.Query(sql, after, &rows).WithContext(std::string("verifying ") + s.name));
      for (const SqlRow& r : rows) {
        ++*rows_checked;
        SqlRow cols(r.begin() + 3, r.end());
        auto problem = [&](std::string what) {
          return std::optional<RowProblem>(RowProblem{s.name, DescribeKey(s, r, 3), std::move(what)});
        };
        if (RowIsNull(r, 1)) return problem("the row has no seal (written outside clawback?)");
        int64_t seq = RowInt(r, 0);
        if (seq != 0 && RowIsNull(r, 2)) {
          return problem("its seal names event " + std::to_string(seq) +
                         ", which is not in the chain");
        }
        std::string want = RowSeal(seq == 0 ? std::string() : RowStr(r, 2), s.name, cols);
        if (want != RowStr(r, 1)) {
          return problem("its content does not match its seal (edited outside clawback?)");
        }
      }
      if (static_cast<int64_t>(rows.size()) < kVerifyPage) break;
      after.assign(rows.back().begin() + 3, rows.back().begin() + 3 + s.key.size());
    }
  }
  return std::optional<RowProblem>();
}

}  // namespace clawback::ledger
