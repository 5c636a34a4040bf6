// LearnStore: the learning system's own state, one SQLite file `<data dir>/learn/learn.db`
// (docs/format/learn.md has the tables):
//   situations  one row per deployment whose logs were ingested: the mined template counts,
//               where the lines came from, the environment and time (copied from the ledger)
//   templates   the text of every template id seen in those counts, and whether it reads as
//               an error or a warning
//   meta        schema version and the frozen document-frequency snapshot the vectors use
// Everything here is derived (from logs and the ledger) and can be rebuilt, so it is kept
// out of the append-only, hash-chained ledger and needs no migration in both ledger
// backends; it works the same whether the ledger is SQLite or PostgreSQL.
//
// Thread-safety: not thread-safe; one store per process (SQLite serialises writers across
// processes).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "learn/situation.h"

struct sqlite3;

namespace clawback::learn {

struct SituationRow {
  std::string deployment_id;
  std::string environment;
  std::string commit_sha;
  int64_t time_ms = 0;
  int64_t lines = 0;
  std::map<uint64_t, uint64_t> counts;
  std::vector<std::string> sources;  // "file:/var/log/app.log", "loki:{app=\"web\"}", …
  int64_t updated_at_ms = 0;
};

struct TemplateRow {
  uint64_t id = 0;
  std::string text;
  bool is_error = false;
};

class LearnStore {
 public:
  static Result<std::unique_ptr<LearnStore>> Open(const std::string& path);
  ~LearnStore();

  Status PutSituation(const SituationRow& row);
  Result<std::optional<SituationRow>> GetSituation(const std::string& deployment_id);
  Result<std::vector<SituationRow>> ListSituations();
  Result<int64_t> CountSituations();
  Status PutTemplates(const std::vector<TemplateRow>& rows);
  Result<std::map<uint64_t, TemplateRow>> Templates();
  Result<std::optional<std::string>> GetMeta(const std::string& key);
  Status SetMeta(const std::string& key, const std::string& value);

 private:
  explicit LearnStore(sqlite3* db) : db_(db) {}
  Status Exec(const std::string& sql);
  sqlite3* db_;
};

}  // namespace clawback::learn
