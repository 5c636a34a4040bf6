#include "common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace clawback {
namespace {

using Clock = std::chrono::steady_clock;

void Append(std::string* out, const char* data, size_t n, size_t max) {
  out->append(data, n);
  if (out->size() > max) out->erase(0, out->size() - max);
}

}  // namespace

std::vector<std::string> EnvironWith(
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv = *e;
    const std::string key = kv.substr(0, kv.find('='));
    bool replaced = false;
    for (const auto& [k, v] : overrides) replaced = replaced || k == key;
    if (!replaced) env.push_back(std::move(kv));
  }
  for (const auto& [k, v] : overrides) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> ExecPointers(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

std::string CommandResult::Describe() const {
  if (!spawn_error.empty()) return spawn_error;
  if (timed_out) return "timed out after " + std::to_string(duration_ms) + " ms";
  if (term_signal != 0) return "killed by signal " + std::to_string(term_signal);
  return "exit " + std::to_string(exit_code);
}

std::vector<std::string> ShellArgv(const std::string& command) { return {"/bin/sh", "-c", command}; }

bool IsExecutable(const std::string& program) {
  auto exec_file = [](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
  };
  if (program.find('/') != std::string::npos) return exec_file(program);
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (dir.empty()) dir = ".";
    if (exec_file(dir + "/" + program)) return true;
    start = end + 1;
  }
  return false;
}

Result<CommandResult> RunCommand(const CommandOptions& o) {
  if (o.argv.empty()) return InvalidArgument("no command given");
  const auto started = Clock::now();
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return ErrnoStatus("pipe", e);
  }
  const std::vector<std::string> env = EnvironWith(o.env);
  auto args = ExecPointers(o.argv);
  auto envp = ExecPointers(env);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    return ErrnoStatus("fork", e);
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::signal(SIGPIPE, SIG_DFL);
    const int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, 0);
    ::dup2(out_pipe[1], 1);
    if (o.stderr_to == CommandOptions::Stderr::kCapture) ::dup2(out_pipe[1], 2);
    if (o.stderr_to == CommandOptions::Stderr::kDiscard) ::dup2(null_fd, 2);
    if (!o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) {
      const int e = errno;
      (void)!::write(err_pipe[1], &e, sizeof e);
      ::_exit(127);
    }
    ::execvpe(args[0], args.data(), envp.data());
    const int e = errno;
    (void)!::write(err_pipe[1], &e, sizeof e);
    ::_exit(e == ENOENT ? 127 : 126);
  }
  ::setpgid(pid, pid);  // also in the parent, so a kill of the group cannot miss it
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(err_pipe[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(err_pipe[0]);
  if (n != static_cast<ssize_t>(sizeof exec_errno)) exec_errno = 0;

  CommandResult r;
  const auto deadline = o.timeout.count() > 0 ? started + o.timeout : Clock::time_point::max();
  bool exited = false, eof = false;
  int wstatus = 0;
  Clock::time_point drain_until{};
  char buf[16384];
  for (;;) {
    if (!exited) {
      const pid_t w = ::waitpid(pid, &wstatus, WNOHANG);
      if (w == pid) {
        exited = true;
        drain_until = Clock::now() + std::chrono::milliseconds(100);
      }
    }
    const auto now = Clock::now();
    // Done once the command has exited and its output is read — or, when a background
    // child of it holds the pipe, after a short drain.
    if (exited && (eof || now >= drain_until)) break;
    if (!exited && now >= deadline) {
      r.timed_out = true;
      ::kill(-pid, SIGTERM);
      for (int i = 0; i < 40 && !exited; ++i) {
        if (::waitpid(pid, &wstatus, WNOHANG) == pid) {
          exited = true;
        } else {
          ::usleep(50'000);
        }
      }
      ::kill(-pid, SIGKILL);  // whatever of the group is left, the command itself too
      if (!exited) {
        while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
        }
        exited = true;
      }
      break;
    }
    if (eof) {
      ::usleep(2'000);  // the output is closed; wait for the exit (or the deadline)
      continue;
    }
    pollfd p{out_pipe[0], POLLIN, 0};
    const int rc = ::poll(&p, 1, exited ? 10 : 50);
    if (rc < 0 && errno != EINTR) {
      eof = true;
      continue;
    }
    if (rc > 0) {
      const ssize_t got = ::read(out_pipe[0], buf, sizeof buf);
      if (got > 0) {
        Append(&r.output, buf, static_cast<size_t>(got), o.max_output);
      } else if (got == 0) {
        eof = true;
      }
    }
  }
  ::close(out_pipe[0]);
  if (!exited) {
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
  }
  r.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  if (WIFSIGNALED(wstatus)) {
    r.term_signal = WTERMSIG(wstatus);
    r.exit_code = 128 + r.term_signal;
  } else {
    r.exit_code = WEXITSTATUS(wstatus);
  }
  if (exec_errno != 0) {
    r.spawn_error = o.argv[0] + ": " + std::strerror(exec_errno);
    r.term_signal = 0;
  }
  return r;
}

}  // namespace clawback
