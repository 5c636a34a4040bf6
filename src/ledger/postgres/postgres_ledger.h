// The PostgreSQL ledger (libpq): the same tables, migrations and hash chain as SQLite, in
// PostgreSQL's types (uuid, bigint). A writer connection and pooled readers; statements are
// prepared once per connection. Concurrent writers (several processes) serialise on a
// table lock on `events` taken at the start of each write transaction, so the chain stays
// linear and writers cannot deadlock each other.
// Tables: docs/format/ledger-schema.md.
#pragma once

#include <memory>
#include <string>

#include "ledger/ledger.h"

namespace clawback::ledger {

// Connects to `url` (a libpq URL: postgresql://user:pass@host:port/db?options=…). Does
// not migrate. Fails with Unavailable when the server cannot be reached.
Result<std::unique_ptr<Ledger>> OpenPostgresLedger(const std::string& url, const Clock& clock);

}  // namespace clawback::ledger
