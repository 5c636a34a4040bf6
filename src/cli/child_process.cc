#include "cli/child_process.h"

#include "common/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace clawback::cli {
namespace {

constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

std::atomic<pid_t> g_child{0};
// A signal that came before the child's pid was known: sent to it once it is.
std::atomic<int> g_pending_signal{0};

void ForwardSignal(int sig, siginfo_t* info, void*) {
  // si_code > 0 means the kernel generated it (e.g. the terminal's Ctrl-C, which the child
  // in the same foreground process group received already). kill(2) gives SI_USER (0),
  // sigqueue SI_QUEUE (< 0).
  if (info != nullptr && info->si_code > 0) return;
  pid_t child = g_child.load();
  if (child <= 0) {
    g_pending_signal.store(sig);
    return;
  }
  ::kill(child, sig);
}

// Starts argv in a child. `exec_errno_fd` is a close-on-exec pipe on which the child
// reports execvp's errno; the parent reads EOF when exec succeeded. `on_forked`, when
// given, runs in the parent as soon as the child exists: the child may be running its
// program (and may have been sent a signal for it) before exec's errno has been read.
Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::vector<std::string>* env,
                    int stdin_fd, int stdout_fd, int stderr_fd, const std::string& cwd,
                    int* exec_errno, void (*on_forked)(pid_t) = nullptr) {
  if (argv.empty()) return InvalidArgument("no command given");
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  auto args = ExecPointers(argv);
  std::vector<char*> envp;
  if (env != nullptr) envp = ExecPointers(*env);
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(err_pipe[0]);
    ::close(err_pipe[1]);
    return ErrnoStatus("fork", e);
  }
  if (pid == 0) {
    // Child: restore default signal dispositions, wire the fds, exec.
    for (int sig : kForwardedSignals) ::signal(sig, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    if (stdin_fd >= 0) ::dup2(stdin_fd, 0);
    if (stdout_fd >= 0) ::dup2(stdout_fd, 1);
    if (stderr_fd >= 0) ::dup2(stderr_fd, 2);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
      int e = errno;
      (void)!::write(err_pipe[1], &e, sizeof e);
      ::_exit(127);
    }
    if (env != nullptr) {
      ::execvpe(args[0], args.data(), envp.data());
    } else {
      ::execvp(args[0], args.data());
    }
    int e = errno;
    (void)!::write(err_pipe[1], &e, sizeof e);
    ::_exit(e == ENOENT ? 127 : 126);
  }
  ::close(err_pipe[1]);
  if (on_forked != nullptr) on_forked(pid);
  int e = 0;
  ssize_t n;
  do {
    n = ::read(err_pipe[0], &e, sizeof e);
  } while (n < 0 && errno == EINTR);
  ::close(err_pipe[0]);
  *exec_errno = n == static_cast<ssize_t>(sizeof e) ? e : 0;
  return pid;
}

Result<int> WaitFor(pid_t pid, int* term_signal) {
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) return ErrnoStatus("waitpid", errno);
  }
  if (WIFSIGNALED(wstatus)) {
    *term_signal = WTERMSIG(wstatus);
    return 128 + WTERMSIG(wstatus);
  }
  *term_signal = 0;
  return WEXITSTATUS(wstatus);
}

}  // namespace

Result<ForwardingResult> RunForwarding(const std::vector<std::string>& argv,
                                       const std::vector<std::string>& env) {
  // Handlers go in before the fork so no signal between fork and install is lost; the
  // child resets them to the defaults before exec.
  struct sigaction sa {};
  sa.sa_sigaction = ForwardSignal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  struct sigaction old[std::size(kForwardedSignals)];
  for (size_t i = 0; i < std::size(kForwardedSignals); ++i) {
    ::sigaction(kForwardedSignals[i], &sa, &old[i]);
  }
  g_pending_signal.store(0);
  auto restore = [&] {
    g_child.store(0);
    for (size_t i = 0; i < std::size(kForwardedSignals); ++i) {
      ::sigaction(kForwardedSignals[i], &old[i], nullptr);
    }
  };
  int exec_errno = 0;
  // The pid is published the moment the child exists: a signal that arrives while exec's
  // errno is still being read must reach it (the command may already be running and
  // printing), and one that came before the fork is sent now.
  auto publish = [](pid_t child) {
    g_child.store(child);
    if (int sig = g_pending_signal.exchange(0); sig != 0) ::kill(child, sig);
  };
  auto pid = Spawn(argv, &env, -1, -1, -1, "", &exec_errno, publish);
  if (!pid.ok()) {
    restore();
    return pid.status();
  }
  ForwardingResult r;
  auto code = WaitFor(*pid, &r.term_signal);
  restore();
  if (!code.ok()) return code.status();
  r.exit_code = *code;
  if (exec_errno != 0) {
    r.spawn_error = argv[0] + ": " + std::strerror(exec_errno);
    r.term_signal = 0;
  }
  return r;
}

Result<Captured> RunCapture(const std::vector<std::string>& argv, const std::string& cwd,
                            bool quiet_stderr) {
  CommandOptions o;
  o.argv = argv;
  o.cwd = cwd;
  o.stderr_to = quiet_stderr ? CommandOptions::Stderr::kDiscard : CommandOptions::Stderr::kInherit;
  o.max_output = SIZE_MAX;
  ASSIGN_OR_RETURN(CommandResult r, RunCommand(o));
  if (!r.spawn_error.empty()) return IOError("run " + r.spawn_error);
  return Captured{r.exit_code, std::move(r.output)};
}

}  // namespace clawback::cli
