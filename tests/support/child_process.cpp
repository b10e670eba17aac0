#include "tests/support/child_process.hpp"

#include <csignal>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace wibwob::test {

using steady = std::chrono::steady_clock;

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  const auto end = steady::now() + limit;
  while (steady::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

namespace {

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, Options options) {
  int fds[2] = {-1, -1};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (options.out) {
    posix_spawn_file_actions_addopen(&fa, 1, options.out->c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  } else if (::pipe2(fds, O_CLOEXEC) == 0) {
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  }
  if (options.err) posix_spawn_file_actions_addopen(&fa, 2, options.err->c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> env = std::move(options.extra_env);
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  auto argvp = pointers(argv);
  auto envp = pointers(env);
  if (argv.empty() || posix_spawn(&pid_, argvp[0], &fa, nullptr, argvp.data(), envp.data()) != 0) pid_ = 0;
  posix_spawn_file_actions_destroy(&fa);
  if (fds[1] >= 0) ::close(fds[1]);
  out_fd_ = fds[0];
}

ChildProcess::~ChildProcess() {
  if (started() && !exited()) {
    signal(SIGTERM);
    if (!wait_until([this] { return exited(); }, std::chrono::seconds(10))) {
      signal(SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

bool ChildProcess::signal(int sig) const { return started() && ::kill(pid_, sig) == 0; }

std::string ChildProcess::read_stdout_until(const std::function<bool(const std::string&)>& pred,
                                            std::chrono::milliseconds deadline, bool* eof) {
  std::string text;
  const auto end = steady::now() + deadline;
  while (out_fd_ >= 0 && !pred(text)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - steady::now()).count();
    if (left <= 0) break;
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[512];
    const auto n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) {
      if (eof) *eof = true;
      break;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

bool ChildProcess::exited() {
  if (status_) return true;
  if (!started()) return false;
  int st = 0;
  if (::waitpid(pid_, &st, WNOHANG) == pid_) status_ = st;
  return status_.has_value();
}

int ChildProcess::wait(std::chrono::milliseconds deadline) {
  if (!wait_until([this] { return exited(); }, deadline) && started()) {
    signal(SIGKILL);
    int st = 0;
    if (::waitpid(pid_, &st, 0) == pid_) status_ = st;
  }
  return exit_code().value_or(-1);
}

std::optional<int> ChildProcess::exit_code() const {
  if (!status_) return std::nullopt;
  return WIFEXITED(*status_) ? WEXITSTATUS(*status_) : 128 + WTERMSIG(*status_);
}

}  // namespace wibwob::test
