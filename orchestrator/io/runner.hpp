// Runner: drives a Supervisor with real processes, sockets and time.
//
// Executes the supervisor's effects (spawn, signal, health probe over the
// app's IPC socket with the auth handshake, one steady timer for WakeAt) and
// feeds it what happens (SIGCHLD -> waitpid, probe replies, the timer,
// SIGTERM/SIGINT -> ordered stop). Logs every effect with spdlog.
//
// Executor: single-threaded io_context passed in; run() returns once the
// supervisor reports Finished (after a stop): then the timer, the signal sets
// and the probes in flight are cancelled, and nothing is left to run. A probe
// that throws makes run() throw (a bug must not become a stalled room).
#pragma once

#include <chrono>
#include <map>
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bridge/ipc/ipc_client.hpp"
#include "orchestrator/core/supervisor.hpp"

namespace wibwob::orchestrator {

struct ProbeTimeouts {
  Ms connect{500};
  Ms auth_step{1000};
  Ms reply{2000};
};

class Runner {
 public:
  Runner(boost::asio::io_context& io, Plan plan, SupervisorConfig config, ProbeTimeouts probe = {});
  // Starts the apps and runs until everything has stopped.
  void run();

 private:
  Ms now() const;
  void apply(Effects effects);
  // Spawns one child (its output to its log file, when the plan has a log dir).
  Effects start_child(const effect::Start& s);
  void start_probe(const effect::Probe& p);
  boost::asio::awaitable<void> probe(bridge::IpcClientConfig c, std::size_t room, std::uint64_t id);
  void send_signal(const effect::Signal& sig);
  void finish();
  void on_child_signal();
  void on_stop_signal();

  boost::asio::io_context& io_;
  Supervisor sup_;
  ProbeTimeouts probe_;
  std::chrono::steady_clock::time_point epoch_;
  boost::asio::steady_timer wake_;
  boost::asio::signal_set child_signals_;
  boost::asio::signal_set stop_signals_;
  std::map<std::size_t, boost::asio::cancellation_signal> probe_stop_;  // per room
  bool applying_ = false;
  Effects queue_;
};

}  // namespace wibwob::orchestrator
