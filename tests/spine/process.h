// Test helpers: run the real clawback binary (and git, sh) as a user would, in temp
// directories, with a controlled environment.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace clawback::testing {

struct ProcResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// A child started with pipes on stdout/stderr.
class Proc {
 public:
  Proc(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
       const std::string& cwd) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) std::abort();
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, args;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    for (auto& s : argv_copy) args.push_back(s.data());
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      int null_fd = ::open("/dev/null", O_RDONLY);
      ::dup2(null_fd, 0);
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(121);
      ::execvpe(args[0], args.data(), envp.data());
      ::_exit(122);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
  }
  ~Proc() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
  }
  pid_t pid() const { return pid_; }
  // What stdout said so far.
  const std::string& Output() const { return res_.out; }

  // Reads until `needle` shows up on stdout (or EOF / timeout).
  bool WaitForOutput(const std::string& needle, int timeout_ms = 10'000) {
    for (int waited = 0; waited < timeout_ms; waited += 20) {
      if (res_.out.find(needle) != std::string::npos) return true;
      if (!Pump(20)) return res_.out.find(needle) != std::string::npos;
    }
    return false;
  }

  ProcResult Wait() {
    while (Pump(100)) {
    }
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    waited_ = true;
    res_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return res_;
  }

 private:
  // Reads what is available; false when both pipes reached EOF.
  bool Pump(int timeout_ms) {
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    int open = (out_fd_ >= 0) + (err_fd_ >= 0);
    if (open == 0) return false;
    if (::poll(fds, 2, timeout_ms) <= 0) return true;
    char buf[4096];
    int* fdp[2] = {&out_fd_, &err_fd_};
    std::string* dst[2] = {&res_.out, &res_.err};
    for (int i = 0; i < 2; ++i) {
      if (*fdp[i] < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(*fdp[i], buf, sizeof buf);
      if (n > 0) {
        dst[i]->append(buf, static_cast<size_t>(n));
      } else {
        ::close(*fdp[i]);
        *fdp[i] = -1;
      }
    }
    return out_fd_ >= 0 || err_fd_ >= 0;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  bool waited_ = false;
  ProcResult res_;
};

inline ProcResult RunProc(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env, const std::string& cwd = "") {
  Proc p(argv, env, cwd);
  return p.Wait();
}

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

inline std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// A temp directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "clawback-spine-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace clawback::testing
