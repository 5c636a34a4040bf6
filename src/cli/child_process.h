// Running other programs from the CLI: `clawback exec` (the child inherits the terminal,
// signals are forwarded) and small helpers that capture a program's output (git).
//
// Thread-safety: RunForwarding installs process-wide signal handlers for its duration; call
// it from one thread at a time.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "common/subprocess.h"

namespace clawback::cli {

using clawback::EnvironWith;  // common/subprocess.h

// Runs argv[0] (searched in PATH) with `env`, inheriting stdin/stdout/stderr, and waits.
// SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH sent to clawback with
// kill(2) are forwarded to the child; a terminal's Ctrl-C already reaches the child through
// the foreground process group and is not sent twice.
// Returns the child's exit code, 128+N when signal N killed it, 127 when the program was not
// found and 126 when it could not be executed (as shells do). The spawn failure is
// described in *spawn_error then.
struct ForwardingResult {
  int exit_code = 0;
  int term_signal = 0;      // the signal that killed the child, 0 if it exited
  std::string spawn_error;  // set when the program could not be started
};
Result<ForwardingResult> RunForwarding(const std::vector<std::string>& argv,
                                       const std::vector<std::string>& env);

// Runs argv with stdout captured (stderr passed through unless `quiet_stderr`), stdin from
// /dev/null, optionally in `cwd`. The exit code and stdout come back.
struct Captured {
  int exit_code = 0;
  std::string out;
};
Result<Captured> RunCapture(const std::vector<std::string>& argv, const std::string& cwd = "",
                            bool quiet_stderr = true);

}  // namespace clawback::cli
