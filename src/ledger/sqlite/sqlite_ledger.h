// The SQLite ledger: one database file in WAL mode (synchronous=NORMAL, busy_timeout 5 s,
// foreign keys on), a writer connection and pooled reader connections, prepared statements
// cached per connection. Tables: docs/format/ledger-schema.md.
#pragma once

#include <memory>
#include <string>

#include "ledger/ledger.h"

namespace clawback::ledger {

// Opens (creating the file if needed, but not its parent directory) the ledger at `path`.
// Does not migrate.
Result<std::unique_ptr<Ledger>> OpenSqliteLedger(const std::string& path, const Clock& clock);

}  // namespace clawback::ledger
