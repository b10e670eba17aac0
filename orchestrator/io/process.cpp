#include "orchestrator/io/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <stdexcept>

#include <spawn.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace wibwob::orchestrator {

SpawnResult spawn_process(const Launch& launch) {
  if (launch.argv.empty() || launch.argv[0].empty()) return {0, "empty command"};
  // The environment: ours, minus `unset`, with `set` on top.
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& k : launch.unset) env.erase(k);
  for (const auto& [k, v] : launch.set) env[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = launch.argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);

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
  const int rc = posix_spawnp(&pid, argv[0], nullptr, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return {0, launch.argv[0] + ": " + std::strerror(rc)};
  return {static_cast<int>(pid), {}};
}

std::string signal_process(int pid, bool kill) {
  if (pid <= 0) return "no pid";
  const int sig = kill ? SIGKILL : SIGTERM;
  if (::kill(-pid, sig) == 0) return {};
  if (::kill(pid, sig) == 0) return {};
  return std::strerror(errno);
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
