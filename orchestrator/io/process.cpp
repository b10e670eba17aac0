#include "orchestrator/io/process.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <map>
#include <stdexcept>

#include <fcntl.h>
#include <spawn.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/logging.hpp"

extern char** environ;

namespace wibwob::orchestrator {

namespace {

// Our environment, minus `unset`, with `set` on top, as NAME=value strings.
std::vector<std::string> child_environment(const Launch& launch) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& k : launch.unset) env.erase(k);
  for (const auto& [k, v] : launch.set) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

using protocol::Errc;
using protocol::make_error;

// Opens the child's log file for appending and writes the start marker.
// Returns the fd (close-on-exec: only the child's dup2'd copies survive exec).
protocol::Result<int> open_child_log(const std::string& path, const Launch& launch) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return make_error(Errc::io_failed, "cannot open the log file " + path + ": " + std::strerror(errno));
  std::string marker = "--- wibwob-rooms " + logging::iso8601_utc_ms(std::chrono::system_clock::now()) + ": starting";
  for (const auto& a : launch.argv) marker += " " + a;
  marker += "\n";
  // A short write only loses (part of) the marker; the child's output still lands.
  if (::write(fd, marker.data(), marker.size()) < 0) {
    const int err = errno;
    ::close(fd);
    return make_error(Errc::io_failed, "cannot write to the log file " + path + ": " + std::strerror(err));
  }
  return fd;
}

}  // namespace

protocol::Result<int> spawn_process(const Launch& launch, const std::string& log_path) {
  if (launch.argv.empty() || launch.argv[0].empty()) return make_error(Errc::missing_field, "empty command");
  std::vector<std::string> env_strings = child_environment(launch);
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = launch.argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);

  int log_fd = -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!log_path.empty()) {
    auto fd = open_child_log(log_path, launch);
    if (!fd) {
      posix_spawn_file_actions_destroy(&actions);
      return fd.error();
    }
    log_fd = *fd;
    posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  // The child starts with default dispositions and nothing blocked, whatever
  // wibwob-rooms has set up for itself.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (log_fd >= 0) ::close(log_fd);
  if (rc != 0) return make_error(Errc::io_failed, launch.argv[0] + ": " + std::strerror(rc));
  return static_cast<int>(pid);
}

protocol::Result<void> signal_process(int pid, bool kill) {
  if (pid <= 0) return make_error(Errc::bad_value, "no pid");
  const int sig = kill ? SIGKILL : SIGTERM;
  if (::kill(-pid, sig) == 0) return {};
  if (::kill(pid, sig) == 0) return {};
  return make_error(Errc::io_failed, std::strerror(errno));
}

std::vector<Reaped> reap_children() {
  std::vector<Reaped> out;
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    std::string how = WIFEXITED(status)     ? "exit " + std::to_string(WEXITSTATUS(status))
                      : WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                            : "status " + std::to_string(status);
    out.push_back({static_cast<int>(pid), std::move(how)});
  }
  return out;
}

std::string fresh_secret() {
  std::string bytes(32, '\0');
  std::size_t got = 0;
  while (got < bytes.size()) {
    const auto n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
    }
    got += static_cast<std::size_t>(n);
  }
  auto s = secret_from_bytes(bytes);
  if (!s) throw std::runtime_error(s.error().message);
  return *s;
}

std::optional<std::string> executable_dir() {
  std::string buf(4096, '\0');
  const auto n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return std::nullopt;
  buf.resize(static_cast<std::size_t>(n));
  const auto slash = buf.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  return buf.substr(0, slash == 0 ? 1 : slash);
}

}  // namespace wibwob::orchestrator
