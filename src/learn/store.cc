#include "learn/store.h"

#include <sqlite3.h>

#include <filesystem>
#include <nlohmann/json.hpp>

namespace clawback::learn {
namespace {

using Json = nlohmann::json;

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Status status() const {
    if (rc_ == SQLITE_OK) return Status::Ok();
    return IOError(std::string("learn.db: ") + sqlite3_errmsg(db_));
  }
  void Text(int i, const std::string& v) { sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  void Int(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  // SQLITE_ROW / SQLITE_DONE, or an error Status.
  Result<bool> Step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return IOError(std::string("learn.db: ") + sqlite3_errmsg(db_));
  }
  std::string Col(int i) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, i))) : std::string();
  }
  int64_t ColInt(int i) { return sqlite3_column_int64(s_, i); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

std::string CountsJson(const std::map<uint64_t, uint64_t>& counts) {
  Json j = Json::object();
  for (auto [id, n] : counts) j[std::to_string(id)] = n;
  return j.dump();
}

std::map<uint64_t, uint64_t> ParseCounts(const std::string& text) {
  std::map<uint64_t, uint64_t> out;
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.value().is_number_unsigned()) out[std::stoull(it.key())] = it.value().get<uint64_t>();
  return out;
}

constexpr const char* kSituationCols =
    "deployment_id, environment, commit_sha, time_ms, lines, counts, sources, updated_at_ms";

SituationRow DecodeSituation(Stmt& s) {
  SituationRow r;
  r.deployment_id = s.Col(0);
  r.environment = s.Col(1);
  r.commit_sha = s.Col(2);
  r.time_ms = s.ColInt(3);
  r.lines = s.ColInt(4);
  r.counts = ParseCounts(s.Col(5));
  Json src = Json::parse(s.Col(6), nullptr, false);
  if (src.is_array())
    for (const auto& x : src)
      if (x.is_string()) r.sources.push_back(x);
  r.updated_at_ms = s.ColInt(7);
  return r;
}

}  // namespace

Result<std::unique_ptr<LearnStore>> LearnStore::Open(const std::string& path) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return IOError("create " + parent.string() + ": " + ec.message());
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return IOError("open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 10000);
  std::unique_ptr<LearnStore> s(new LearnStore(db));
  RETURN_IF_ERROR(s->Exec("PRAGMA journal_mode=WAL"));
  RETURN_IF_ERROR(s->Exec(
      "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS situations (deployment_id TEXT PRIMARY KEY, "
      "environment TEXT NOT NULL, commit_sha TEXT NOT NULL, time_ms INTEGER NOT NULL, "
      "lines INTEGER NOT NULL, counts TEXT NOT NULL, sources TEXT NOT NULL, "
      "updated_at_ms INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS templates (id INTEGER PRIMARY KEY, text TEXT NOT NULL, "
      "is_error INTEGER NOT NULL);"
      "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');"));
  ASSIGN_OR_RETURN(auto v, s->GetMeta("schema_version"));
  if (!v || *v != "1")
    return FailedPrecondition(path + ": learn state schema " + v.value_or("?") +
                              " is newer than this clawback understands");
  return s;
}

LearnStore::~LearnStore() { sqlite3_close(db_); }

Status LearnStore::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    return IOError("learn.db: " + msg);
  }
  return Status::Ok();
}

Status LearnStore::PutSituation(const SituationRow& r) {
  Stmt s(db_,
         "INSERT INTO situations (deployment_id, environment, commit_sha, time_ms, lines, counts, "
         "sources, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
         "ON CONFLICT (deployment_id) DO UPDATE SET environment = ?2, commit_sha = ?3, "
         "time_ms = ?4, lines = ?5, counts = ?6, sources = ?7, updated_at_ms = ?8");
  RETURN_IF_ERROR(s.status());
  s.Text(1, r.deployment_id);
  s.Text(2, r.environment);
  s.Text(3, r.commit_sha);
  s.Int(4, r.time_ms);
  s.Int(5, r.lines);
  s.Text(6, CountsJson(r.counts));
  s.Text(7, Json(r.sources).dump());
  s.Int(8, r.updated_at_ms);
  ASSIGN_OR_RETURN(bool row, s.Step());
  (void)row;
  return Status::Ok();
}

Result<std::optional<SituationRow>> LearnStore::GetSituation(const std::string& id) {
  Stmt s(db_, (std::string("SELECT ") + kSituationCols + " FROM situations WHERE deployment_id = ?1").c_str());
  RETURN_IF_ERROR(s.status());
  s.Text(1, id);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<SituationRow>();
  return std::optional<SituationRow>(DecodeSituation(s));
}

Result<std::vector<SituationRow>> LearnStore::ListSituations() {
  Stmt s(db_, (std::string("SELECT ") + kSituationCols + " FROM situations ORDER BY time_ms, deployment_id").c_str());
  RETURN_IF_ERROR(s.status());
  std::vector<SituationRow> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(DecodeSituation(s));
  }
  return out;
}

Result<int64_t> LearnStore::CountSituations() {
  Stmt s(db_, "SELECT COUNT(*) FROM situations");
  RETURN_IF_ERROR(s.status());
  ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.ColInt(0) : int64_t{0};
}

Status LearnStore::PutTemplates(const std::vector<TemplateRow>& rows) {
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Status st;
  for (const auto& r : rows) {
    Stmt s(db_, "INSERT INTO templates (id, text, is_error) VALUES (?1, ?2, ?3) "
                "ON CONFLICT (id) DO UPDATE SET text = ?2, is_error = ?3");
    st = s.status();
    if (!st.ok()) break;
    s.Int(1, static_cast<int64_t>(r.id));
    s.Text(2, r.text);
    s.Int(3, r.is_error ? 1 : 0);
    auto step = s.Step();
    if (!step.ok()) {
      st = step.status();
      break;
    }
  }
  if (!st.ok()) {
    (void)Exec("ROLLBACK");
    return st;
  }
  return Exec("COMMIT");
}

Result<std::map<uint64_t, TemplateRow>> LearnStore::Templates() {
  Stmt s(db_, "SELECT id, text, is_error FROM templates");
  RETURN_IF_ERROR(s.status());
  std::map<uint64_t, TemplateRow> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    TemplateRow t{static_cast<uint64_t>(s.ColInt(0)), s.Col(1), s.ColInt(2) != 0};
    out[t.id] = t;
  }
  return out;
}

Result<std::optional<std::string>> LearnStore::GetMeta(const std::string& key) {
  Stmt s(db_, "SELECT value FROM meta WHERE key = ?1");
  RETURN_IF_ERROR(s.status());
  s.Text(1, key);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(s.Col(0));
}

Status LearnStore::SetMeta(const std::string& key, const std::string& value) {
  Stmt s(db_, "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2");
  RETURN_IF_ERROR(s.status());
  s.Text(1, key);
  s.Text(2, value);
  ASSIGN_OR_RETURN(bool row, s.Step());
  (void)row;
  return Status::Ok();
}

}  // namespace clawback::learn
