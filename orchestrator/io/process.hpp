// Child processes for the orchestrator: spawn with an edited environment,
// signal, reap. POSIX only (posix_spawn, waitpid).
//
// Each child leads its own process group, so a Ctrl-C on the terminal reaches
// only wibwob-rooms (which then stops bridges before apps) and a signal to
// the group also reaches whatever the child started (a wrapper script's
// children, ttyd's shell).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "orchestrator/core/plan.hpp"
#include "protocol/result.hpp"

namespace wibwob::orchestrator {

// The child's pid, or why it could not be started. argv[0] without a '/' is looked up in PATH. With a `log_path`, the child's
// stdout and stderr both go to that file, opened for appending (created 0640
// when missing) after a line `--- wibwob-rooms <UTC time>: starting <argv>`;
// without one they are inherited. The file is never rotated or truncated.
protocol::Result<int> spawn_process(const Launch& launch, const std::string& log_path = {});

// SIGTERM or SIGKILL to the child's process group (its pid when the group is gone).
protocol::Result<void> signal_process(int pid, bool kill);

struct Reaped {
  int pid;
  std::string how;  // "exit 0", "signal 9"
};
// Every child that has exited, without blocking.
std::vector<Reaped> reap_children();

// 32 bytes from the OS CSPRNG as 64 hex characters; throws on failure.
std::string fresh_secret();

// The directory of the running executable (for the default bridge path).
std::optional<std::string> executable_dir();

}  // namespace wibwob::orchestrator
