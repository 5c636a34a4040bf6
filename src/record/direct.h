// The CLI's direct mode: one write, in this process, exactly as `clawback serve` makes it.
// The route's rule (routes.h) builds the job from the same body the CLI would POST; the job
// is prepared on a fresh Context over the data dir's ledger and applied as one batch, and
// its after-commit work runs too. So `clawback deploy start` writes the same rows with or
// without --server.
//
// Thread-safety: one call at a time per ledger handle (the ledger serialises writes).
#pragma once

#include <string>

#include "common/clock.h"
#include "ledger/ledger.h"
#include "record/routes.h"

namespace clawback::record {

// The answer body the server would send for (method, path, body), or its error with the
// field it names appended ("… (field environment)"), as the CLI shows a server's errors.
// `actor` is who acts when the body does not say (the server uses the token's name).
Result<Json> WriteDirect(ledger::Ledger* ledger, const RouteDeps& deps, const std::string& method,
                         const std::string& path, Json body, const std::string& actor,
                         const Clock& clock = SystemClock());

// Runs one job (a rule's PrepareFn, e.g. RecordSnapshotJob) against `ledger` as WriteDirect
// does: its answer body, or its error with the field appended.
Result<Json> ApplyJob(ledger::Ledger* ledger, PrepareFn job, const Clock& clock = SystemClock());

}  // namespace clawback::record
