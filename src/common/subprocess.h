// Running another program and capturing what it says: dump/load hooks, deploy commands,
// health-check commands, git. The child gets its own process group, stdin from /dev/null,
// and stdout (and, unless told otherwise, stderr) into one captured buffer.
//
// A command may leave a program running in the background (a deploy command that starts a
// service with `&`): once the command itself has exited, what is already written is read
// and the rest is not waited for, so a background child holding the pipe does not hold the
// caller. On timeout the whole process group gets SIGTERM, then SIGKILL after a grace.
//
// Thread-safety: RunCommand may be called from several threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace clawback {

struct CommandOptions {
  std::vector<std::string> argv;  // argv[0] is searched in PATH
  std::string cwd;                // "" = the caller's
  // KEY=VALUE added to (or replacing in) the caller's environment.
  std::vector<std::pair<std::string, std::string>> env;
  std::chrono::milliseconds timeout{0};  // 0 = none
  enum class Stderr { kCapture, kInherit, kDiscard } stderr_to = Stderr::kCapture;
  size_t max_output = 1 << 20;  // keep at most this much output (the end is kept)
};

struct CommandResult {
  int exit_code = 0;        // 128+N when signal N ended it; 127 not found, 126 not executable
  int term_signal = 0;
  bool timed_out = false;
  std::string output;       // stdout (and stderr when captured), the last max_output bytes
  int64_t duration_ms = 0;
  std::string spawn_error;  // set when the program could not be started

  bool ok() const { return exit_code == 0 && !timed_out && spawn_error.empty(); }
  // "exit 3", "killed by signal 9", "timed out after 10 s", "not found: foo".
  std::string Describe() const;
};

// Only a failure to set up (pipe, fork) is an error; what the program did is the result.
Result<CommandResult> RunCommand(const CommandOptions& options);

// {"/bin/sh", "-c", command}: how a configured command line is run.
std::vector<std::string> ShellArgv(const std::string& command);

// This process's environment as "KEY=VALUE" strings, with `overrides` replacing or adding
// keys.
std::vector<std::string> EnvironWith(const std::vector<std::pair<std::string, std::string>>& overrides);

// The strings' c_str()s and a terminating nullptr, for exec*(); valid while `v` lives.
std::vector<char*> ExecPointers(const std::vector<std::string>& v);

// Whether `program` (a path, or a name searched in PATH) is an executable file.
bool IsExecutable(const std::string& program);

}  // namespace clawback
