// How each backend runs the ledger conformance suite (ledger_conformance.h): a fresh ledger
// per test and raw SQL access to tamper with it.
#include <cstdlib>
#include <memory>

#include "common/testing/temp_dir.h"
#include "ledger/ledger_conformance.h"

#if LEDGER_CONFORMANCE_SQLITE
#include <sqlite3.h>
#endif
#if LEDGER_CONFORMANCE_POSTGRES
#include <libpq-fe.h>
#endif

namespace clawback::ledger {

#if LEDGER_CONFORMANCE_SQLITE
namespace {

class SqliteRaw : public RawDb {
 public:
  explicit SqliteRaw(const std::string& path) { sqlite3_open(path.c_str(), &db_); }
  ~SqliteRaw() override { sqlite3_close(db_); }
  bool Exec(const std::string& sql, std::string* error) override {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (err) *error = err;
    sqlite3_free(err);
    return rc == SQLITE_OK;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

std::optional<Harness> MakeHarness(std::string* skip) {
  (void)skip;
  auto dir = std::make_shared<test::TempDir>("clawback-ledger-conf");
  Harness h;
  h.url = "sqlite:" + dir->File("ledger.db");
  h.raw = std::make_unique<SqliteRaw>(dir->File("ledger.db"));
  h.cleanup = [dir]() mutable { dir.reset(); };  // removes it, the ledger closed
  return h;
}
const char* const kBackendName = "sqlite";
#endif  // LEDGER_CONFORMANCE_SQLITE

#if LEDGER_CONFORMANCE_POSTGRES
namespace {

class PgRaw : public RawDb {
 public:
  explicit PgRaw(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  }
  ~PgRaw() override { PQfinish(conn_); }
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  bool Exec(const std::string& sql, std::string* error) override {
    PGresult* r = PQexec(conn_, sql.c_str());
    auto s = PQresultStatus(r);
    bool good = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!good) *error = PQresultErrorMessage(r);
    PQclear(r);
    return good;
  }

 private:
  PGconn* conn_;
};

}  // namespace

std::optional<Harness> MakeHarness(std::string* skip) {
  const char* base = std::getenv("CLAWBACK_TEST_PG_URL");
  if (!base || !*base) {
    *skip = "CLAWBACK_TEST_PG_URL is not set (make test sets it through scripts/with-postgres)";
    return std::nullopt;
  }
  std::string schema = "ledger_test_" + NewUuidV7().ToHex();
  auto admin = std::make_shared<PgRaw>(base);
  std::string err;
  if (!admin->ok() || !admin->Exec("CREATE SCHEMA " + schema, &err)) return std::nullopt;
  std::string url = base;
  url += (url.find('?') == std::string::npos ? "?" : "&");
  url += "options=-csearch_path%3D" + schema;
  Harness h;
  h.url = url;
  h.raw = std::make_unique<PgRaw>(url);
  h.cleanup = [admin, schema] {
    std::string e;
    admin->Exec("DROP SCHEMA " + schema + " CASCADE", &e);
  };
  return h;
}
const char* const kBackendName = "postgresql";
#endif  // LEDGER_CONFORMANCE_POSTGRES

}  // namespace clawback::ledger
