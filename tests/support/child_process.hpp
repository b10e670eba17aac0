// ChildProcess: a binary under test run as a child process (posix_spawn),
// with our environment plus `extra_env`, stdout to a pipe the test reads or
// to a file, stderr to a file or inherited. The destructor sends SIGTERM,
// waits up to 10 s, then SIGKILLs; the child is always reaped.
//
// wait_until: polls an observable fact with a deadline (for tests without an
// io_context; io_test_support.hpp has the io_context form).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace wibwob::test {

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds limit = std::chrono::seconds(15));

class ChildProcess {
 public:
  struct Options {
    std::vector<std::string> extra_env;          // NAME=value, before ours
    std::optional<std::filesystem::path> out;    // stdout to this file; else a pipe (read_stdout_until)
    std::optional<std::filesystem::path> err;    // stderr to this file; else inherited
  };
  // argv[0] is the program's path. started() says whether it ran.
  explicit ChildProcess(std::vector<std::string> argv, Options options = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  bool signal(int sig) const;

  // From the stdout pipe: reads until pred(all text so far), EOF or the
  // deadline; returns the text. `eof` tells whether the pipe was closed.
  std::string read_stdout_until(const std::function<bool(const std::string&)>& pred,
                                std::chrono::milliseconds deadline, bool* eof = nullptr);

  // Non-blocking: true once the child has exited (and was reaped).
  bool exited();
  // Waits up to `deadline` for the exit (SIGKILL after it); the exit code,
  // or 128 + the signal that ended it.
  int wait(std::chrono::milliseconds deadline = std::chrono::seconds(10));
  // The exit code (128 + signal) once exited() holds.
  std::optional<int> exit_code() const;

 private:
  pid_t pid_ = 0;
  int out_fd_ = -1;
  std::optional<int> status_;
};

}  // namespace wibwob::test
