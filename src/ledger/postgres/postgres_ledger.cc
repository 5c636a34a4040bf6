#include "ledger/postgres/postgres_ledger.h"

#include <libpq-fe.h>

#include <string_view>
#include <unordered_map>

#include "ledger/sql_connection.h"
#include "ledger/row_seal.h"
#include "ledger/sql_ledger.h"
#include "ledger/sql_statements.h"

namespace clawback::ledger {
namespace {

// Version 1: the same tables as SQLite's version 1, in PostgreSQL's types.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE conversations (
  id            uuid PRIMARY KEY,
  source        text NOT NULL DEFAULT '',
  title         text NOT NULL DEFAULT '',
  agent         text NOT NULL DEFAULT '',
  started_at_ms bigint NOT NULL,
  ended_at_ms   bigint,
  status        text NOT NULL DEFAULT 'active',
  previous_id   uuid,
  attributes    text NOT NULL DEFAULT '{}'
);
CREATE INDEX conversations_started ON conversations (started_at_ms);
CREATE INDEX conversations_status ON conversations (status, started_at_ms);

CREATE TABLE conversation_external_ids (
  conversation_id uuid NOT NULL REFERENCES conversations (id),
  kind            text NOT NULL,
  value           text NOT NULL,
  PRIMARY KEY (kind, value, conversation_id)
);
CREATE INDEX conversation_external_ids_conversation ON conversation_external_ids (conversation_id);

CREATE TABLE events (
  seq             bigint PRIMARY KEY,
  id              uuid NOT NULL UNIQUE,
  conversation_id uuid REFERENCES conversations (id),
  kind            text NOT NULL,
  time_ms         bigint NOT NULL,
  actor           text NOT NULL DEFAULT '',
  attributes      text NOT NULL DEFAULT '{}',
  prev_hash       text NOT NULL,
  hash            text NOT NULL
);
CREATE INDEX events_conversation ON events (conversation_id, time_ms, seq);
CREATE INDEX events_time ON events (time_ms);

CREATE TABLE tool_calls (
  conversation_id uuid NOT NULL REFERENCES conversations (id),
  tool_call_id    text NOT NULL,
  name            text NOT NULL DEFAULT '',
  params          text NOT NULL DEFAULT '{}',
  status          text NOT NULL DEFAULT 'started',
  exit_code       integer,
  duration_ms     bigint,
  started_at_ms   bigint NOT NULL DEFAULT 0,
  finished_at_ms  bigint,
  result          text,
  error           text NOT NULL DEFAULT '',
  run_id          text NOT NULL DEFAULT '',
  PRIMARY KEY (conversation_id, tool_call_id)
);
CREATE INDEX tool_calls_started ON tool_calls (started_at_ms);

CREATE TABLE commands (
  id              uuid PRIMARY KEY,
  conversation_id uuid REFERENCES conversations (id),
  argv            text NOT NULL DEFAULT '[]',
  cwd             text NOT NULL DEFAULT '',
  exit_code       integer,
  started_at_ms   bigint NOT NULL DEFAULT 0,
  duration_ms     bigint,
  tool_call_id    text NOT NULL DEFAULT ''
);
CREATE INDEX commands_conversation ON commands (conversation_id, started_at_ms);

CREATE TABLE file_changes (
  id              uuid PRIMARY KEY,
  conversation_id uuid REFERENCES conversations (id),
  path            text NOT NULL,
  change          text NOT NULL DEFAULT '',
  time_ms         bigint NOT NULL DEFAULT 0,
  tool_call_id    text NOT NULL DEFAULT '',
  attributes      text NOT NULL DEFAULT '{}'
);
CREATE INDEX file_changes_conversation ON file_changes (conversation_id, time_ms);
CREATE INDEX file_changes_path ON file_changes (path, time_ms);

CREATE TABLE commits (
  sha             text PRIMARY KEY,
  conversation_id uuid REFERENCES conversations (id),
  repo            text NOT NULL DEFAULT '',
  branch          text NOT NULL DEFAULT '',
  message         text NOT NULL DEFAULT '',
  author          text NOT NULL DEFAULT '',
  files           text NOT NULL DEFAULT '[]',
  trailer         text NOT NULL DEFAULT '',
  time_ms         bigint NOT NULL DEFAULT 0
);
CREATE INDEX commits_conversation ON commits (conversation_id, time_ms);

CREATE TABLE deployments (
  id              uuid PRIMARY KEY,
  conversation_id uuid REFERENCES conversations (id),
  environment     text NOT NULL DEFAULT '',
  commit_sha      text NOT NULL DEFAULT '',
  status          text NOT NULL DEFAULT 'started',
  started_at_ms   bigint NOT NULL DEFAULT 0,
  finished_at_ms  bigint,
  attributes      text NOT NULL DEFAULT '{}'
);
CREATE INDEX deployments_conversation ON deployments (conversation_id, started_at_ms);
CREATE INDEX deployments_environment ON deployments (environment, started_at_ms);

CREATE TABLE snapshots (
  snapshot_id     text PRIMARY KEY,
  conversation_id uuid REFERENCES conversations (id),
  repository      text NOT NULL DEFAULT '',
  reason          text NOT NULL DEFAULT '',
  paths           text NOT NULL DEFAULT '[]',
  tags            text NOT NULL DEFAULT '[]',
  time_ms         bigint NOT NULL DEFAULT 0,
  stats           text NOT NULL DEFAULT '{}'
);
CREATE INDEX snapshots_conversation ON snapshots (conversation_id, time_ms);
CREATE INDEX snapshots_time ON snapshots (time_ms);

CREATE TABLE backups (
  id              uuid PRIMARY KEY,
  job             text NOT NULL DEFAULT '',
  snapshot_id     text NOT NULL DEFAULT '',
  status          text NOT NULL DEFAULT 'running',
  started_at_ms   bigint NOT NULL DEFAULT 0,
  finished_at_ms  bigint,
  attributes      text NOT NULL DEFAULT '{}'
);
CREATE INDEX backups_snapshot ON backups (snapshot_id);
CREATE INDEX backups_started ON backups (started_at_ms);

CREATE TABLE rollbacks (
  id              uuid PRIMARY KEY,
  conversation_id uuid REFERENCES conversations (id),
  target_kind     text NOT NULL DEFAULT '',
  target          text NOT NULL DEFAULT '',
  mode            text NOT NULL DEFAULT '',
  status          text NOT NULL DEFAULT 'planned',
  pre_snapshot_id text NOT NULL DEFAULT '',
  started_at_ms   bigint NOT NULL DEFAULT 0,
  finished_at_ms  bigint,
  plan            text NOT NULL DEFAULT '{}'
);
CREATE INDEX rollbacks_conversation ON rollbacks (conversation_id);
CREATE INDEX rollbacks_target ON rollbacks (target_kind, target);

CREATE TABLE tokens (
  id              uuid PRIMARY KEY,
  name            text NOT NULL,
  role            text NOT NULL,
  hash            text NOT NULL UNIQUE,
  created_at_ms   bigint NOT NULL,
  revoked         integer NOT NULL DEFAULT 0
);
)sql";

// Version 2: the write path of ingest gets cheaper. `events`, `tool_calls` and `commands`
// lose their foreign keys to `conversations` (PostgreSQL's per-row key checks were over a
// third of its CPU per ingested event; the ledger checks those references itself, once per
// conversation and transaction: SqlLedger::RequireConversation); two indexes no query uses
// go.
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE events DROP CONSTRAINT IF EXISTS events_conversation_id_fkey;
ALTER TABLE tool_calls DROP CONSTRAINT IF EXISTS tool_calls_conversation_id_fkey;
ALTER TABLE commands DROP CONSTRAINT IF EXISTS commands_conversation_id_fkey;
DROP INDEX IF EXISTS events_time;
DROP INDEX IF EXISTS tool_calls_started;
)sql";

// Version 3: when each token was last used (`clawback token list`), kept to the minute.
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE tokens ADD COLUMN last_used_at_ms BIGINT;
)sql";

// Version 4: every projection row carries a seal (row_seal.h); SqlLedger::Migrate seals the
// rows already there.
const char* RowSealMigration() {
  static const std::string sql = SealColumnsMigrationSql();
  return sql.c_str();
}

// Version 5: bookkeeping for consumers that follow the chain (telemetry exporters): a
// named cursor (the seq handled up to) and a lease (which of several servers does the job).
// Not projections of events: outside the hash chain and the row seals.
constexpr const char* kSchemaV5 = R"sql(
CREATE TABLE cursors (
  name            text PRIMARY KEY,
  seq             bigint NOT NULL,
  updated_at_ms   bigint NOT NULL
);
CREATE TABLE leases (
  name            text PRIMARY KEY,
  holder          text NOT NULL,
  acquired_at_ms  bigint NOT NULL,
  expires_at_ms   bigint NOT NULL
);
)sql";

const std::vector<Migration>& PostgresMigrations() {
  static const std::vector<Migration> m = {{1, "initial schema", kSchemaV1},
                                           {2, "cheaper ingest writes", kSchemaV2},
                                           {3, "token last use", kSchemaV3},
                                           {4, "row seals", RowSealMigration()},
                                           {5, "follower cursors and leases", kSchemaV5}};
  return m;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Classifies a failed result by its SQLSTATE.
Status ResultStatus(PGconn* conn, const PGresult* res) {
  std::string msg = Trim(res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  if (msg.empty()) msg = Trim(PQerrorMessage(conn));
  msg = "postgresql ledger: " + msg;
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  if (!state || PQstatus(conn) != CONNECTION_OK) return Unavailable(msg);
  std::string_view s(state);
  if (s == "23505") return AlreadyExists(msg);
  if (s == "23503") return NotFound(msg);
  if (s == "42P01") {
    return FailedPrecondition(msg + " (the ledger has no schema yet: run `clawback init`)");
  }
  if (s == "55P03") return Locked(msg);
  if (s == "57014") return Cancelled(msg);
  if (s == "40001" || s == "40P01") return Unavailable(msg + " (retry)");
  if (s.substr(0, 2) == "08") return Unavailable(msg);
  if (s.substr(0, 2) == "22" || s.substr(0, 2) == "23") return InvalidArgument(msg);
  if (s == "XX001" || s == "XX002") return Corruption(msg);
  if (s.substr(0, 2) == "53" || s.substr(0, 2) == "58") return IOError(msg);
  return Internal(msg);
}

class PgConnection : public SqlConnection {
 public:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  ~PgConnection() override { PQfinish(conn_); }

  static Result<std::unique_ptr<SqlConnection>> Open(const std::string& url) {
    PGconn* conn = PQconnectdb(url.c_str());
    if (!conn) return Unavailable("postgresql ledger: out of memory connecting");
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string msg = Trim(PQerrorMessage(conn));
      PQfinish(conn);
      return Unavailable("postgresql ledger: cannot connect: " + msg);
    }
    PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
    return std::unique_ptr<SqlConnection>(std::make_unique<PgConnection>(conn));
  }

  // SqlConnection
  Status Exec(const std::string& sql) override {
    if (in_pipeline_) {
      // PQexec and PQsendQuery are not allowed in pipeline mode; the extended protocol
      // with no parameters is (one statement only).
      if (!PQsendQueryParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0)) {
        return SendFailed();
      }
      pending_.emplace_back();
      return Status::Ok();
    }
    RETURN_IF_ERROR(EnsureConnected(sql.rfind("BEGIN", 0) == 0));
    PGresult* res = PQexec(conn_, sql.c_str());
    Status st = Check(res);
    PQclear(res);
    return st;
  }

  Status Query(const std::string& sql, const std::vector<SqlValue>& params,
               std::vector<SqlRow>* rows, int64_t* changes) override {
    if (!in_pipeline_) RETURN_IF_ERROR(EnsureConnected(false));
    const int n_params = static_cast<int>(params.size());
    std::string* name;
    auto it = statements_.find(sql);
    if (it != statements_.end()) {
      name = &it->second;
    } else {
      std::string n = "clawback_" + std::to_string(next_statement_++);
      if (in_pipeline_) {
        // Remembered now; forgotten again in Collect if the server rejects it.
        if (!PQsendPrepare(conn_, n.c_str(), sql.c_str(), n_params, nullptr)) return SendFailed();
        pending_.push_back(Pending{sql});
      } else {
        PGresult* prep = PQprepare(conn_, n.c_str(), sql.c_str(), n_params, nullptr);
        Status st = Check(prep);
        PQclear(prep);
        if (!st.ok()) return st;
      }
      name = &statements_.emplace(sql, std::move(n)).first->second;
    }
    std::vector<std::string> ints;
    ints.reserve(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<int> lengths(params.size(), 0);
    for (size_t i = 0; i < params.size(); ++i) {
      if (const auto* v = std::get_if<int64_t>(&params[i])) {
        ints.push_back(std::to_string(*v));
        values[i] = ints.back().c_str();
      } else if (const auto* s = std::get_if<std::string>(&params[i])) {
        values[i] = s->c_str();
        lengths[i] = static_cast<int>(s->size());
      }
    }
    if (in_pipeline_) {
      if (!PQsendQueryPrepared(conn_, name->c_str(), n_params, values.data(), lengths.data(),
                               nullptr, 0)) {
        return SendFailed();
      }
      pending_.emplace_back();
      if (!rows && !changes) return Status::Ok();
      PGresult* res = nullptr;
      Status st = Collect(&res);
      if (st.ok()) ReadResult(res, rows, changes);
      PQclear(res);
      return st;
    }
    PGresult* res =
        PQexecPrepared(conn_, name->c_str(), n_params, values.data(), lengths.data(), nullptr, 0);
    Status st = Check(res);
    if (st.ok()) ReadResult(res, rows, changes);
    PQclear(res);
    return st;
  }

  void ResetStatements() override {
    if (!statements_.empty() && PQstatus(conn_) == CONNECTION_OK) {
      PGresult* res = PQexec(conn_, "DEALLOCATE ALL");
      PQclear(res);
    }
    statements_.clear();
  }

  bool SupportsPipeline() const override { return true; }

  Status BeginPipeline() override {
    RETURN_IF_ERROR(EnsureConnected(true));
    if (PQenterPipelineMode(conn_) != 1) {
      return Internal("postgresql ledger: cannot enter pipeline mode: " +
                      Trim(PQerrorMessage(conn_)));
    }
    in_pipeline_ = true;
    return Status::Ok();
  }

  Status EndPipeline() override {
    if (!in_pipeline_) return Status::Ok();
    Status st = Collect(nullptr);
    in_pipeline_ = false;
    // Fails only with results still unread, i.e. on a lost connection (reset at the next
    // BeginPipeline or BEGIN).
    if (PQexitPipelineMode(conn_) != 1 && st.ok()) {
      st = Unavailable("postgresql ledger: cannot leave pipeline mode: " +
                       Trim(PQerrorMessage(conn_)));
    }
    return st;
  }

 private:
  // A command queued in the pipeline whose result is not read yet.
  struct Pending {
    std::string prepared_sql;  // for a PQsendPrepare: the statement it caches, else empty
  };

  // Sends a sync, then reads the result of every pending command and the sync's. Returns
  // the first error; `*last` (when not null) receives the last command's result if it
  // succeeded (the caller clears it).
  Status Collect(PGresult** last) {
    if (pending_.empty()) return Status::Ok();
    const size_t n = pending_.size();
    if (PQpipelineSync(conn_) != 1) {
      ForgetPendingPrepares();
      pending_.clear();
      return SendFailed();
    }
    Status first;
    size_t i = 0;  // the command whose results come next; each ends with a null result
    for (;;) {
      PGresult* r = PQgetResult(conn_);
      if (!r) {
        if (PQstatus(conn_) != CONNECTION_OK || ++i > n) {
          if (first.ok())
            first =
                Unavailable("postgresql ledger: connection lost: " + Trim(PQerrorMessage(conn_)));
          ForgetPendingPrepares();
          break;
        }
        continue;
      }
      if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
        PQclear(r);
        break;
      }
      // PGRES_PIPELINE_ABORTED (skipped after an earlier error) is an error too, but never
      // the first one.
      Status st = Check(r);
      if (i < n) {
        if (!st.ok() && !pending_[i].prepared_sql.empty()) {
          statements_.erase(pending_[i].prepared_sql);
        }
        if (st.ok() && last && i + 1 == n) {
          PQclear(*last);
          *last = r;
          r = nullptr;
        }
      }
      if (!st.ok() && first.ok()) first = st;
      PQclear(r);
    }
    pending_.clear();
    return first;
  }

  // Whatever a pending command was preparing may not exist on the server: uncache it.
  void ForgetPendingPrepares() {
    for (const Pending& p : pending_) {
      if (!p.prepared_sql.empty()) statements_.erase(p.prepared_sql);
    }
  }

  static void ReadResult(PGresult* res, std::vector<SqlRow>* rows, int64_t* changes) {
    if (!res) return;
    if (rows && PQresultStatus(res) == PGRES_TUPLES_OK) {
      int n = PQntuples(res);
      int f = PQnfields(res);
      rows->reserve(rows->size() + n);
      for (int r = 0; r < n; ++r) {
        SqlRow& row = rows->emplace_back();
        row.reserve(f);
        for (int c = 0; c < f; ++c) {
          if (PQgetisnull(res, r, c)) {
            row.emplace_back(std::monostate{});
          } else {
            row.emplace_back(
                std::string(PQgetvalue(res, r, c), static_cast<size_t>(PQgetlength(res, r, c))));
          }
        }
      }
    }
    if (changes) {
      const char* t = PQcmdTuples(res);
      *changes = (t && *t) ? std::stoll(t) : 0;
    }
  }

  // A PQsend* call that returned 0: the connection broke (or libpq ran out of memory).
  Status SendFailed() {
    std::string msg = "postgresql ledger: " + Trim(PQerrorMessage(conn_));
    return PQstatus(conn_) == CONNECTION_OK ? Internal(msg) : Unavailable(msg);
  }

  Status Check(PGresult* res) {
    if (res) {
      auto s = PQresultStatus(res);
      if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY) {
        return Status::Ok();
      }
      if (s == PGRES_PIPELINE_ABORTED) {
        return Cancelled("postgresql ledger: skipped after an earlier error in the pipeline");
      }
    }
    return ResultStatus(conn_, res);
  }

  // A lost connection is re-established only where a transaction begins, so a statement
  // never runs outside the transaction it belongs to.
  Status EnsureConnected(bool may_reset) {
    if (PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
    if (!may_reset) return Unavailable("postgresql ledger: connection lost");
    statements_.clear();
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      return Unavailable("postgresql ledger: cannot reconnect: " + Trim(PQerrorMessage(conn_)));
    }
    return Status::Ok();
  }

  PGconn* conn_;
  std::unordered_map<std::string, std::string> statements_;  // sql -> statement name
  int next_statement_ = 0;
  bool in_pipeline_ = false;
  std::vector<Pending> pending_;  // in pipeline mode: queued, unanswered commands
};

}  // namespace

Result<std::unique_ptr<Ledger>> OpenPostgresLedger(const std::string& url, const Clock& clock) {
  Dialect d;
  d.name = "postgresql";
  d.begin_write = "BEGIN";
  d.begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  // One writer at a time (across processes) appends to the chain: a transaction-scoped
  // advisory lock, one key per schema (so per ledger), released at COMMIT or ROLLBACK.
  // Readers are not blocked, and neither is (auto)vacuum: `LOCK TABLE events IN SHARE ROW
  // EXCLUSIVE MODE`, used before, conflicts with the SHARE UPDATE EXCLUSIVE lock that
  // autovacuum and autoanalyze hold on `events`, so after a burst of inserts every commit
  // queued behind autovacuum's pass (or its lock request), and single-event requests waited
  // tens of ms (bench/RESULTS.md, Ingest).
  d.lock_chain = "SELECT pg_advisory_xact_lock(hashtext('clawback.chain.' || current_schema()))";
  d.lock_migrations = "SELECT pg_advisory_xact_lock(hashtext('clawback.migrate.' || current_schema()))";
  d.table_exists = "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1";
  d.size_bytes =
      "SELECT CAST(COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS BIGINT) FROM pg_class c "
      "JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = current_schema() AND c.relkind = 'r'";
  d.seal_expression = &PostgresSealExpression;
  d.typed = &PostgresTyped;
  d.migrations = &PostgresMigrations();
  auto ledger = std::make_unique<SqlLedger>(
      std::move(d), [url]() { return PgConnection::Open(url); }, clock);
  RETURN_IF_ERROR(ledger->Open());
  return std::unique_ptr<Ledger>(std::move(ledger));
}

}  // namespace clawback::ledger
