#include "ledger/sqlite/sqlite_ledger.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "ledger/sql_connection.h"
#include "ledger/row_seal.h"
#include "ledger/sql_ledger.h"

namespace clawback::ledger {
namespace {

// Version 1: every table of docs/format/ledger-schema.md.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE conversations (
  id            TEXT PRIMARY KEY,
  source        TEXT NOT NULL DEFAULT '',
  title         TEXT NOT NULL DEFAULT '',
  agent         TEXT NOT NULL DEFAULT '',
  started_at_ms INTEGER NOT NULL,
  ended_at_ms   INTEGER,
  status        TEXT NOT NULL DEFAULT 'active',
  previous_id   TEXT,
  attributes    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX conversations_started ON conversations (started_at_ms);
CREATE INDEX conversations_status ON conversations (status, started_at_ms);

CREATE TABLE conversation_external_ids (
  conversation_id TEXT NOT NULL REFERENCES conversations (id),
  kind            TEXT NOT NULL,
  value           TEXT NOT NULL,
  PRIMARY KEY (kind, value, conversation_id)
);
CREATE INDEX conversation_external_ids_conversation ON conversation_external_ids (conversation_id);

CREATE TABLE events (
  seq             INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  conversation_id TEXT REFERENCES conversations (id),
  kind            TEXT NOT NULL,
  time_ms         INTEGER NOT NULL,
  actor           TEXT NOT NULL DEFAULT '',
  attributes      TEXT NOT NULL DEFAULT '{}',
  prev_hash       TEXT NOT NULL,
  hash            TEXT NOT NULL
);
CREATE INDEX events_conversation ON events (conversation_id, time_ms, seq);
CREATE INDEX events_time ON events (time_ms);

CREATE TABLE tool_calls (
  conversation_id TEXT NOT NULL REFERENCES conversations (id),
  tool_call_id    TEXT NOT NULL,
  name            TEXT NOT NULL DEFAULT '',
  params          TEXT NOT NULL DEFAULT '{}',
  status          TEXT NOT NULL DEFAULT 'started',
  exit_code       INTEGER,
  duration_ms     INTEGER,
  started_at_ms   INTEGER NOT NULL DEFAULT 0,
  finished_at_ms  INTEGER,
  result          TEXT,
  error           TEXT NOT NULL DEFAULT '',
  run_id          TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (conversation_id, tool_call_id)
);
CREATE INDEX tool_calls_started ON tool_calls (started_at_ms);

CREATE TABLE commands (
  id              TEXT PRIMARY KEY,
  conversation_id TEXT REFERENCES conversations (id),
  argv            TEXT NOT NULL DEFAULT '[]',
  cwd             TEXT NOT NULL DEFAULT '',
  exit_code       INTEGER,
  started_at_ms   INTEGER NOT NULL DEFAULT 0,
  duration_ms     INTEGER,
  tool_call_id    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX commands_conversation ON commands (conversation_id, started_at_ms);

CREATE TABLE file_changes (
  id              TEXT PRIMARY KEY,
  conversation_id TEXT REFERENCES conversations (id),
  path            TEXT NOT NULL,
  change          TEXT NOT NULL DEFAULT '',
  time_ms         INTEGER NOT NULL DEFAULT 0,
  tool_call_id    TEXT NOT NULL DEFAULT '',
  attributes      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX file_changes_conversation ON file_changes (conversation_id, time_ms);
CREATE INDEX file_changes_path ON file_changes (path, time_ms);

CREATE TABLE commits (
  sha             TEXT PRIMARY KEY,
  conversation_id TEXT REFERENCES conversations (id),
  repo            TEXT NOT NULL DEFAULT '',
  branch          TEXT NOT NULL DEFAULT '',
  message         TEXT NOT NULL DEFAULT '',
  author          TEXT NOT NULL DEFAULT '',
  files           TEXT NOT NULL DEFAULT '[]',
  trailer         TEXT NOT NULL DEFAULT '',
  time_ms         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX commits_conversation ON commits (conversation_id, time_ms);

CREATE TABLE deployments (
  id              TEXT PRIMARY KEY,
  conversation_id TEXT REFERENCES conversations (id),
  environment     TEXT NOT NULL DEFAULT '',
  commit_sha      TEXT NOT NULL DEFAULT '',
  status          TEXT NOT NULL DEFAULT 'started',
  started_at_ms   INTEGER NOT NULL DEFAULT 0,
  finished_at_ms  INTEGER,
  attributes      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX deployments_conversation ON deployments (conversation_id, started_at_ms);
CREATE INDEX deployments_environment ON deployments (environment, started_at_ms);

CREATE TABLE snapshots (
  snapshot_id     TEXT PRIMARY KEY,
  conversation_id TEXT REFERENCES conversations (id),
  repository      TEXT NOT NULL DEFAULT '',
  reason          TEXT NOT NULL DEFAULT '',
  paths           TEXT NOT NULL DEFAULT '[]',
  tags            TEXT NOT NULL DEFAULT '[]',
  time_ms         INTEGER NOT NULL DEFAULT 0,
  stats           TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX snapshots_conversation ON snapshots (conversation_id, time_ms);
CREATE INDEX snapshots_time ON snapshots (time_ms);

CREATE TABLE backups (
  id              TEXT PRIMARY KEY,
  job             TEXT NOT NULL DEFAULT '',
  snapshot_id     TEXT NOT NULL DEFAULT '',
  status          TEXT NOT NULL DEFAULT 'running',
  started_at_ms   INTEGER NOT NULL DEFAULT 0,
  finished_at_ms  INTEGER,
  attributes      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX backups_snapshot ON backups (snapshot_id);
CREATE INDEX backups_started ON backups (started_at_ms);

CREATE TABLE rollbacks (
  id              TEXT PRIMARY KEY,
  conversation_id TEXT REFERENCES conversations (id),
  target_kind     TEXT NOT NULL DEFAULT '',
  target          TEXT NOT NULL DEFAULT '',
  mode            TEXT NOT NULL DEFAULT '',
  status          TEXT NOT NULL DEFAULT 'planned',
  pre_snapshot_id TEXT NOT NULL DEFAULT '',
  started_at_ms   INTEGER NOT NULL DEFAULT 0,
  finished_at_ms  INTEGER,
  plan            TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX rollbacks_conversation ON rollbacks (conversation_id);
CREATE INDEX rollbacks_target ON rollbacks (target_kind, target);

CREATE TABLE tokens (
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL,
  role            TEXT NOT NULL,
  hash            TEXT NOT NULL UNIQUE,
  created_at_ms   INTEGER NOT NULL,
  revoked         INTEGER NOT NULL DEFAULT 0
);
)sql";

// Version 2: two indexes no query uses go (PostgreSQL's version 2 also drops foreign keys;
// SQLite keeps them: its key checks are cheap, and dropping one means rebuilding the table).
constexpr const char* kSchemaV2 = R"sql(
DROP INDEX IF EXISTS events_time;
DROP INDEX IF EXISTS tool_calls_started;
)sql";

// Version 3: when each token was last used (`clawback token list`), kept to the minute.
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE tokens ADD COLUMN last_used_at_ms INTEGER;
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
  name            TEXT PRIMARY KEY,
  seq             INTEGER NOT NULL,
  updated_at_ms   INTEGER NOT NULL
);
CREATE TABLE leases (
  name            TEXT PRIMARY KEY,
  holder          TEXT NOT NULL,
  acquired_at_ms  INTEGER NOT NULL,
  expires_at_ms   INTEGER NOT NULL
);
)sql";

const std::vector<Migration>& SqliteMigrations() {
  static const std::vector<Migration> m = {{1, "initial schema", kSchemaV1},
                                           {2, "cheaper ingest writes", kSchemaV2},
                                           {3, "token last use", kSchemaV3},
                                           {4, "row seals", RowSealMigration()},
                                           {5, "follower cursors and leases", kSchemaV5}};
  return m;
}

Status SqliteStatus(sqlite3* db, int rc, std::string_view what) {
  int ext = db ? sqlite3_extended_errcode(db) : rc;
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return AlreadyExists(msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return NotFound(msg);
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return InvalidArgument(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Locked(msg + " (another process holds the ledger's write lock)");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Corruption(msg);
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return IOError(msg);
    default:
      break;
  }
  if (msg.find("no such table") != std::string::npos) {
    return FailedPrecondition(msg + " (the ledger has no schema yet: run `clawback init`)");
  }
  return Internal(msg);
}

// "$12" → "?12": SQLite numbers "?NNN" parameters explicitly, so the index matches.
std::string ToSqliteParams(const std::string& sql) {
  std::string out;
  out.reserve(sql.size());
  bool in_string = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'') in_string = !in_string;
    if (!in_string && c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out.push_back('?');
      continue;
    }
    out.push_back(c);
  }
  return out;
}

// A database named by a file path, not ":memory:" or a "file:" URI.
bool IsPlainFile(const std::string& path) {
  return path != ":memory:" && path.rfind("file:", 0) != 0;
}

// The checkpoint marks, in WAL frames (a frame is one 4 KiB page): the defaults, or what
// SetSqliteCheckpointMarksForTest set.
struct CheckpointMarks {
  int background = 1000;  // ~4 MiB: wake the background thread
  int finish = 16384;     // ~64 MiB: the committing thread finishes the checkpoint
  int hard = 65536;       // ~256 MiB: ... even if that means waiting for a background pass
  std::function<void()> before_pass;  // run by the background thread before each pass
};
std::mutex& MarksMutex() {
  static std::mutex mu;
  return mu;
}
CheckpointMarks& Marks() {  // GUARDED_BY(MarksMutex())
  static CheckpointMarks marks;
  return marks;
}

// Copies the WAL back into the database file on a thread of its own, so no commit pays for
// it. SQLite's default (wal_autocheckpoint) runs the checkpoint inside the commit that
// crosses the mark: copying ~4 MiB of pages and two fsyncs, which was a fifth of the ingest
// writer's time and the tail of single-event latency. Every connection of a ledger reports
// its commits here (sqlite3_wal_hook, which also turns autocheckpoint off for it).
//
// A PASSIVE checkpoint never blocks the writer, but the log only restarts from its
// beginning when a write transaction starts with every frame already copied. Between
// commits of single events (1,000 a second) the thread's passes catch up by themselves: each
// copies what the last one left, and a short one fits between two commits. A writer that
// never pauses (a burst of batches) keeps the thread a commit behind, and the WAL would grow
// without bound; so past the `finish` mark, once a background pass has left only a little
// behind (SmallLeftover), the next commit copies that little itself (the thread stops
// starting passes there to leave it the chance), and the transaction after it restarts the
// log.
//
// A commit never waits for a background pass (a pass's fsyncs take tens of ms while the
// kernel writes back a burst's pages, and a commit that waited for one made every request
// queued behind it late), except past the `hard` mark, which only a writer that outruns
// the thread's copying for a long while reaches.
class Checkpointer {
 public:
  explicit Checkpointer(std::string path) : path_(std::move(path)) {
    std::lock_guard<std::mutex> lock(MarksMutex());
    marks_ = Marks();
  }
  ~Checkpointer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  void Attach(sqlite3* db) { sqlite3_wal_hook(db, &Checkpointer::OnCommit, this); }

 private:
  // SQLite calls this after every commit, on the committing thread, outside any lock.
  static int OnCommit(void* self, sqlite3* db, const char* schema, int frames) {
    auto* c = static_cast<Checkpointer*>(self);
    c->frames_.store(frames, std::memory_order_relaxed);
    if (frames >= c->marks_.hard) {
      std::lock_guard<std::mutex> lock(c->checkpoint_mu_);
      c->Pass(db, schema);
      return SQLITE_OK;
    }
    if (frames >= c->marks_.finish && c->SmallLeftover()) {
      std::unique_lock<std::mutex> lock(c->checkpoint_mu_, std::try_to_lock);
      if (lock.owns_lock()) {
        c->Pass(db, schema);
        return SQLITE_OK;
      }
      // A background pass is running: the next commit tries again.
    }
    if (frames >= c->marks_.background) c->Request();
    return SQLITE_OK;
  }

  // What the last pass left in the WAL is little enough for a commit to copy: a background
  // mark's worth, or an eighth of the finish mark (~8 MiB). Under a burst each pass leaves
  // about what was committed while it ran; after a pass slowed by the disk (seconds), it is
  // more, and the thread copies it rather than the next commit.
  bool SmallLeftover() const {
    return leftover_.load(std::memory_order_relaxed) <=
           std::max(marks_.background, marks_.finish / 8);
  }

  // One PASSIVE checkpoint on `db`. REQUIRES: checkpoint_mu_ held.
  void Pass(sqlite3* db, const char* schema) {
    int log = 0, copied = 0;
    // SQLITE_BUSY (another process is checkpointing) and I/O errors leave the frames in
    // the WAL, where they are safe; a later pass retries.
    if (sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) ==
            SQLITE_OK &&
        log >= copied) {
      leftover_.store(log - copied, std::memory_order_relaxed);
    }
  }

  void Request() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      requested_ = true;
      if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
    }
    cv_.notify_one();
  }

  void Loop() {
    sqlite3* db = nullptr;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || requested_; });
        if (stopping_) break;
        requested_ = false;
      }
      // Past the finish mark with little left: the next commit finishes it (OnCommit).
      if (frames_.load(std::memory_order_relaxed) >= marks_.finish && SmallLeftover()) continue;
      if (!db) {
        // A connection learns that the database is in WAL mode (and opens the WAL) on its
        // first read; until then a checkpoint on it does nothing. PRAGMA schema_version
        // reads the header.
        if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                            nullptr) != SQLITE_OK ||
            sqlite3_exec(db, "PRAGMA schema_version", nullptr, nullptr, nullptr) != SQLITE_OK) {
          // The committing connections checkpoint themselves past the finish mark.
          sqlite3_close_v2(db);
          db = nullptr;
          continue;
        }
      }
      std::lock_guard<std::mutex> lock(checkpoint_mu_);
      if (marks_.before_pass) marks_.before_pass();
      Pass(db, nullptr);
    }
    if (db) sqlite3_close_v2(db);
  }

  const std::string path_;
  CheckpointMarks marks_;  // fixed at construction
  std::atomic<int> frames_{0};    // the WAL's size after the last commit, in frames
  std::atomic<int> leftover_{0};  // frames the last pass could not copy
  std::mutex checkpoint_mu_;      // held by whichever of this process's passes runs
  std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;  // GUARDED_BY(mu_)
  bool stopping_ = false;   // GUARDED_BY(mu_)
  std::thread thread_;      // started on the first request
};

// clawback_row_seal(chain_hash, table, column...): RowSeal over the values as a SELECT would
// return them (integers in decimal, everything else as its text or bytes).
void RowSealFunction(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (argc < 2) {
    sqlite3_result_error(ctx, "clawback_row_seal needs a chain hash and a table", -1);
    return;
  }
  auto text = [](sqlite3_value* v) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
    return std::string(p ? p : "", static_cast<size_t>(sqlite3_value_bytes(v)));
  };
  SqlRow row;
  row.reserve(static_cast<size_t>(argc - 2));
  for (int i = 2; i < argc; ++i) {
    switch (sqlite3_value_type(argv[i])) {
      case SQLITE_NULL: row.emplace_back(std::monostate{}); break;
      case SQLITE_INTEGER: row.emplace_back(static_cast<int64_t>(sqlite3_value_int64(argv[i]))); break;
      default: row.emplace_back(text(argv[i]));
    }
  }
  std::string seal = RowSeal(text(argv[0]), text(argv[1]), row);
  sqlite3_result_text(ctx, seal.data(), static_cast<int>(seal.size()), SQLITE_TRANSIENT);
}

class SqliteConnection : public SqlConnection {
 public:
  SqliteConnection(sqlite3* db, std::string path, std::shared_ptr<Checkpointer> checkpointer)
      : db_(db), path_(std::move(path)), checkpointer_(std::move(checkpointer)) {}
  ~SqliteConnection() override {
    ResetStatements();
    sqlite3_close_v2(db_);
  }

  // `checkpointer` (may be null: SQLite's own autocheckpoint then) is shared by every
  // connection of one ledger and outlives them.
  static Result<std::unique_ptr<SqlConnection>> Open(const std::string& path,
                                                     std::shared_ptr<Checkpointer> checkpointer) {
    // The ledger holds token hashes and everything agents did: create it owner-only
    // (SQLite gives its -wal and -shm files the database file's permissions).
    // O_EXCL matters: closing any descriptor of a file drops every POSIX lock this process
    // holds on it, so an open+close of an existing ledger would silently release the
    // locks of this process's other connections. Another process closing its connection
    // would then believe it was the last one, checkpoint, and delete the -wal and -shm
    // files under our writer, whose later commits no other process would see.
    if (IsPlainFile(path)) {
      int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd >= 0) ::close(fd);  // we created it: no connection of ours holds a lock on it
    }
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      Status st = SqliteStatus(db, rc, "open ledger " + path);
      sqlite3_close_v2(db);
      return st;
    }
    sqlite3_extended_result_codes(db, 1);
    // The row seal the writer computes in the statement that writes the row (row_seal.h,
    // Dialect::seal_expression).
    rc = sqlite3_create_function_v2(db, "clawback_row_seal", -1,
                                    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, nullptr,
                                    &RowSealFunction, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      Status st = SqliteStatus(db, rc, "open ledger " + path);
      sqlite3_close_v2(db);
      return st;
    }
    auto conn = std::make_unique<SqliteConnection>(db, path, checkpointer);
    RETURN_IF_ERROR(conn->Exec(
        "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
        "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16000; "
        "PRAGMA mmap_size = 268435456;"));
    if (checkpointer) checkpointer->Attach(db);  // after the pragmas: it replaces autocheckpoint
    return std::unique_ptr<SqlConnection>(std::move(conn));
  }

  // SqlConnection
  Status Exec(const std::string& sql) override {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      sqlite3_free(err);
      return SqliteStatus(db_, rc, "ledger " + path_);
    }
    return Status::Ok();
  }

  Status Query(const std::string& sql, const std::vector<SqlValue>& params,
               std::vector<SqlRow>* rows, int64_t* changes) override {
    sqlite3_stmt* stmt = nullptr;
    auto it = statements_.find(sql);
    if (it != statements_.end()) {
      stmt = it->second;
    } else {
      std::string text = ToSqliteParams(sql);
      int rc = sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size()),
                                  SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) return SqliteStatus(db_, rc, "ledger " + path_);
      statements_.emplace(sql, stmt);
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      const SqlValue& v = params[i];
      int rc;
      if (const auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, idx, *n);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        rc = sqlite3_bind_text(stmt, idx, s->data(), static_cast<int>(s->size()), SQLITE_STATIC);
      } else {
        rc = sqlite3_bind_null(stmt, idx);
      }
      if (rc != SQLITE_OK) {
        Status st = SqliteStatus(db_, rc, "ledger " + path_);
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        return st;
      }
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (!rows) continue;
      int n = sqlite3_column_count(stmt);
      SqlRow& row = rows->emplace_back();
      row.reserve(n);
      for (int i = 0; i < n; ++i) {
        switch (sqlite3_column_type(stmt, i)) {
          case SQLITE_NULL:
            row.emplace_back(std::monostate{});
            break;
          case SQLITE_INTEGER:
            row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, i)));
            break;
          default: {
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
            int len = sqlite3_column_bytes(stmt, i);
            row.emplace_back(std::string(p ? p : "", static_cast<size_t>(len)));
          }
        }
      }
    }
    Status st;
    if (rc != SQLITE_DONE) st = SqliteStatus(db_, rc, "ledger " + path_);
    if (changes) *changes = sqlite3_changes64(db_);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return st;
  }

  void ResetStatements() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    statements_.clear();
  }

 private:
  sqlite3* db_;
  std::string path_;
  std::shared_ptr<Checkpointer> checkpointer_;  // kept alive while db_ may commit
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace

void SetSqliteCheckpointMarksForTest(int background_frames, int finish_frames, int hard_frames,
                                     std::function<void()> before_pass) {
  std::lock_guard<std::mutex> lock(MarksMutex());
  CheckpointMarks& m = Marks();
  if (background_frames <= 0) {
    m = CheckpointMarks();
    return;
  }
  m.background = background_frames;
  m.finish = finish_frames;
  m.hard = hard_frames;
  m.before_pass = std::move(before_pass);
}

Result<std::unique_ptr<Ledger>> OpenSqliteLedger(const std::string& path, const Clock& clock) {
  Dialect d;
  d.name = "sqlite";
  d.begin_write = "BEGIN IMMEDIATE";
  d.begin_read = "BEGIN";
  d.lock_chain = "";  // BEGIN IMMEDIATE already excludes every other writer
  d.lock_migrations = "";
  d.table_exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1";
  d.size_bytes = "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()";
  d.seal_expression = &SqliteSealExpression;
  d.migrations = &SqliteMigrations();
  // In-memory and URI databases keep SQLite's autocheckpoint (a second connection to them
  // would not be the same database, or might not be).
  std::shared_ptr<Checkpointer> checkpointer;
  if (IsPlainFile(path)) checkpointer = std::make_shared<Checkpointer>(path);
  auto ledger = std::make_unique<SqlLedger>(
      std::move(d), [path, checkpointer]() { return SqliteConnection::Open(path, checkpointer); },
      clock);
  RETURN_IF_ERROR(ledger->Open());
  return std::unique_ptr<Ledger>(std::move(ledger));
}

}  // namespace clawback::ledger
