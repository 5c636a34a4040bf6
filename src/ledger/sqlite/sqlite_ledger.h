// The SQLite ledger: one database file in WAL mode (synchronous=NORMAL, busy_timeout 5 s,
// foreign keys on), a writer connection and pooled reader connections, prepared statements
// cached per connection. Tables: docs/format/ledger-schema.md.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "ledger/ledger.h"

namespace clawback::ledger {

// Opens (creating the file if needed, but not its parent directory) the ledger at `path`.
// Does not migrate.
Result<std::unique_ptr<Ledger>> OpenSqliteLedger(const std::string& path, const Clock& clock);

// Tests only: WAL checkpoint marks (in frames of one page) for ledgers opened from now on —
// wake the background checkpointer at `background_frames`, let a commit finish the
// checkpoint itself at `finish_frames`, and wait for a background pass at `hard_frames` —
// and `before_pass`, run on the background thread before each of its passes (with the
// checkpoint lock held). background_frames <= 0 restores the defaults (1000 / 16384 / 65536
// frames: ~4 / 64 / 256 MiB).
void SetSqliteCheckpointMarksForTest(int background_frames, int finish_frames, int hard_frames,
                                     std::function<void()> before_pass = nullptr);

}  // namespace clawback::ledger
