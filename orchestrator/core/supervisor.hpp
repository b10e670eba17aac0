// Supervisor: the lifecycle of every room's app and bridge as a pure state
// machine (shared/spec/rooms.md, "Lifecycle"). Inputs are what the shell saw
// (a process started or exited, a health probe's reply, the time, a stop
// request); outputs are effects for the shell to carry out. No processes,
// sockets or clocks here: times are milliseconds on the caller's clock.
//
// The rules:
// - Each room's app starts at once with a fresh secret (one per app start).
// - The app is healthy only when an authenticated `cmd:get_state` gets a
//   parsable get_state reply. An auth challenge, an auth error or anything
//   else is unhealthy (the earlier tool counted the challenge line as healthy).
// - A multiplayer room's bridge starts only once its app is healthy, with the
//   app's current secret.
// - A bridge that exits is restarted with backoff; its app is left alone.
// - An app that exits (or never becomes healthy within app_ready_timeout) is
//   restarted with backoff and a fresh secret; its bridge, which holds the old
//   secret, is stopped and started again once the new app is healthy.
// - Backoff never gives up; the attempt count resets once a process has stayed
//   up for the config's stable_after.
// - Stop: bridges get SIGTERM, SIGKILL after stop_grace; once every bridge is
//   gone, apps get the same; then Finished. Nothing starts during a stop.
//   A second stop request kills whatever is still alive.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "common/backoff.hpp"
#include "common/log_level.hpp"
#include "orchestrator/core/plan.hpp"

namespace wibwob::orchestrator {

using Ms = std::chrono::milliseconds;

struct SupervisorConfig {
  BackoffConfig app_backoff{Ms{500}, Ms{30000}, 2.0, 0.3, Ms{30000}};
  BackoffConfig bridge_backoff{Ms{500}, Ms{15000}, 2.0, 0.3, Ms{10000}};
  Ms first_probe_after{50};     // after the app started
  Ms probe_interval{250};       // between probes until it is healthy
  Ms app_ready_timeout{20000};  // not healthy by then: restart the app
  Ms stop_grace{5000};          // SIGTERM -> SIGKILL
  std::uint64_t seed = 1;       // backoff jitter
};

enum class Role { app, bridge };
enum class Sig { term, kill };
using Level = wibwob::LogLevel;  // common/log_level.hpp
const char* to_string(Role r) noexcept;

// A health probe's reply as the shell saw it: delivered = a line came back
// (after the shell's auth handshake); else text says what went wrong.
struct ProbeReply {
  bool delivered = false;
  std::string text;
};
// Healthy iff delivered and a parsable get_state reply. nullopt = healthy,
// else why not.
std::optional<std::string> probe_problem(const ProbeReply& r);

namespace effect {
// Spawn the process now and report on_started / on_start_failed.
struct Start { std::size_t room; Role role; Launch launch; };
// Connect to socket_path, authenticate with secret, send `cmd:get_state`,
// report on_probe_result with this id. The shell bounds it with timeouts.
struct Probe { std::size_t room; std::uint64_t id; std::string socket_path; std::string secret; };
struct Signal { std::size_t room; Role role; int pid; Sig sig; };
// Call on_timer at (or after) this time. Replaces any earlier WakeAt: the
// shell keeps one timer.
struct WakeAt { Ms at; };
struct Log { Level level; std::string room; std::string text; };
// Everything has stopped; the shell may exit.
struct Finished {};
}  // namespace effect
using Effect = std::variant<effect::Start, effect::Probe, effect::Signal, effect::WakeAt, effect::Log, effect::Finished>;
using Effects = std::vector<Effect>;

// Observation for tests and status lines.
enum class ProcState { down, running, stopping };
struct ProcView {
  ProcState state = ProcState::down;
  int pid = 0;
  std::uint32_t attempt = 0;        // consecutive failures (backoff attempt)
  std::uint64_t starts = 0;         // total starts
  std::optional<Ms> restart_at;     // scheduled restart
};
struct RoomView {
  ProcView app;
  ProcView bridge;
  bool healthy = false;
  std::string secret;  // the current app's secret (empty before the first start)
};

class Supervisor {
 public:
  // make_secret supplies a fresh secret per app start (the shell: 32 bytes
  // from the OS CSPRNG, hex). The plan must not be empty.
  Supervisor(Plan plan, SupervisorConfig config, std::function<std::string()> make_secret);

  Effects start(Ms now);
  Effects on_started(std::size_t room, Role role, int pid, Ms now);
  Effects on_start_failed(std::size_t room, Role role, const std::string& why, Ms now);
  // Any child exited (the shell reaps with waitpid). `how`: "exit 1", "signal 9".
  Effects on_exited(int pid, const std::string& how, Ms now);
  Effects on_probe_result(std::size_t room, std::uint64_t id, const ProbeReply& reply, Ms now);
  Effects on_timer(Ms now);
  Effects request_stop(Ms now);

  RoomView view(std::size_t room) const;
  std::size_t room_count() const noexcept { return rooms_.size(); }
  bool stopping() const noexcept { return stopping_; }
  bool finished() const noexcept { return finished_; }
  const Plan& plan() const noexcept { return plan_; }

 private:
  struct Proc {
    ProcState state = ProcState::down;
    int pid = 0;
    bool starting = false;           // Start emitted, not yet reported
    std::optional<Ms> restart_at;    // down: start again at this time
    std::optional<Ms> kill_at;       // stopping: SIGKILL at this time
    bool killed = false;
    bool stop_is_failure = false;    // we stopped it because it failed
    std::uint64_t starts = 0;
    Ms started_at{0};
    Backoff backoff;
  };
  struct RoomState {
    Proc app, bridge;
    bool healthy = false;
    std::string secret;
    std::uint64_t probe_id = 0;
    bool probe_in_flight = false;
    std::optional<Ms> next_probe_at;
    std::optional<Ms> ready_deadline;
    std::string last_probe_problem;
  };

  void start_app(std::size_t i, Ms now, Effects& out);
  void start_bridge(std::size_t i, Ms now, Effects& out);
  void signal(std::size_t i, Role role, Proc& p, Sig sig, Ms now, Effects& out);
  void app_failed(std::size_t i, const std::string& why, Ms now, Effects& out);
  void bridge_failed(std::size_t i, const std::string& why, Ms now, Effects& out);
  void advance_stop(Ms now, Effects& out);
  void finish(Ms now, Effects& out);
  double draw();
  void log(Effects& out, Level level, std::size_t room, std::string text) const;

  Plan plan_;
  SupervisorConfig config_;
  std::function<std::string()> make_secret_;
  std::vector<RoomState> rooms_;
  std::mt19937_64 rng_;
  bool started_ = false;
  bool stopping_ = false;
  bool apps_phase_ = false;
  bool finished_ = false;
  std::uint64_t next_probe_id_ = 1;
};

}  // namespace wibwob::orchestrator
