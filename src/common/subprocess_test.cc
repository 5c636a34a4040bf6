#include "common/subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"

namespace clawback {
namespace {

CommandResult Shell(const std::string& shell, std::chrono::milliseconds timeout = {},
                  const std::string& cwd = "") {
  CommandOptions o;
  o.argv = ShellArgv(shell);
  o.timeout = timeout;
  o.cwd = cwd;
  auto r = RunCommand(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : CommandResult{};
}

TEST(Subprocess, CapturesStdoutAndStderrAndTheExitCode) {
  CommandResult r = Shell("echo out; echo err >&2; exit 3");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.output, "out\nerr\n");
  EXPECT_EQ(r.Describe(), "exit 3");
}

TEST(Subprocess, RunsInTheGivenDirectoryWithAddedEnvironment) {
  test::TempDir dir;
  CommandOptions o;
  o.argv = ShellArgv("pwd; echo $CLAWBACK_X");
  o.cwd = dir.str();
  o.env = {{"CLAWBACK_X", "forty two"}};
  ASSERT_OK_AND_ASSIGN(CommandResult r, RunCommand(o));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.output, dir.str() + "\nforty two\n");
}

TEST(Subprocess, StdinIsEmpty) {
  CommandResult r = Shell("cat; echo done");
  EXPECT_EQ(r.output, "done\n");
}

TEST(Subprocess, AProgramThatIsNotThereSaysSo) {
  CommandOptions o;
  o.argv = {"clawback-no-such-program-x"};
  ASSERT_OK_AND_ASSIGN(CommandResult r, RunCommand(o));
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.spawn_error.find("No such file or directory"), std::string::npos) << r.spawn_error;
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(IsExecutable("clawback-no-such-program-x"));
  EXPECT_TRUE(IsExecutable("sh"));
  EXPECT_TRUE(IsExecutable("/bin/sh"));
  EXPECT_FALSE(IsExecutable("/etc/passwd"));
}

TEST(Subprocess, TimeoutKillsTheWholeGroup) {
  test::TempDir dir;
  const std::string marker = dir.File("still-running");
  const auto start = std::chrono::steady_clock::now();
  // A grandchild that would write the marker after 1.5 s: the timeout must stop it too.
  CommandResult r = Shell("(sleep 1.5; touch " + marker + ") & sleep 30", std::chrono::milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_NE(r.Describe().find("timed out"), std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(1800));
  EXPECT_FALSE(std::ifstream(marker).good()) << "the grandchild outlived the timeout";
}

TEST(Subprocess, ABackgroundChildHoldingThePipeDoesNotHoldTheCaller) {
  test::TempDir dir;
  const std::string pidfile = dir.File("pid");
  const auto start = std::chrono::steady_clock::now();
  // What a deploy command does: start a service in the background and return.
  CommandResult r = Shell("sleep 20 & echo $! > " + pidfile + "; echo started");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.output, "started\n");
  EXPECT_LT(took, std::chrono::seconds(3));
  std::ifstream in(pidfile);
  pid_t pid = 0;
  in >> pid;
  ASSERT_GT(pid, 0);
  EXPECT_EQ(::kill(pid, 0), 0) << "the background service was stopped";
  ::kill(pid, SIGKILL);
}

TEST(Subprocess, KeepsTheEndOfALongOutput) {
  CommandOptions o;
  o.argv = ShellArgv("seq 1 100000");
  o.max_output = 100;
  ASSERT_OK_AND_ASSIGN(CommandResult r, RunCommand(o));
  EXPECT_EQ(r.output.size(), 100u);
  EXPECT_TRUE(r.output.ends_with("99999\n100000\n"));
}

TEST(Subprocess, ASignalIsReported) {
  CommandResult r = Shell("kill -9 $$");
  EXPECT_EQ(r.term_signal, 9);
  EXPECT_EQ(r.exit_code, 137);
  EXPECT_EQ(r.Describe(), "killed by signal 9");
}

}  // namespace
}  // namespace clawback
