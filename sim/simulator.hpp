// The deterministic simulator: N fake apps (fakewibwob's pure core), N
// bridge engines (bridge/core), one room server core, a simulated network and
// IPC with latencies, people acting on the apps, and faults, all on virtual
// time and driven by one seeded RNG. The same seed replays the same run
// exactly (SimReport::trace_hash proves it).
//
// After the active phase every fault heals; the run then waits for
// quiescence and checks shared/spec/sync.md's requirements: every instance
// shows exactly the server's synced windows (convergence, no loss, no
// duplicates, every local window mapped to a room id) and the room stays
// quiet (no state_delta for two poll intervals).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace wibwob::sim {

using Ms = std::chrono::milliseconds;

struct SimConfig {
  std::uint64_t seed = 1;
  int instances = 3;
  Ms active{20000};               // people act and faults happen during this
  Ms settle_limit{60000};         // then everything heals; converge within this
  double actions_per_second = 4;  // person and IPC actions, all instances together
  double faults_per_second = 0.15;  // room drops, app restarts, bridge restarts
  bool faults = true;
  Ms poll_interval{250};
  Ms net_latency_min{1}, net_latency_max{40};
  Ms ipc_latency_min{0}, ipc_latency_max{20};
  bool keep_trace = false;        // keep every trace line (for --verbose / failures)
};

struct SimReport {
  std::uint64_t seed = 0;
  bool converged = false;
  std::string failure;            // empty when converged
  Ms settled_after{0};            // from the end of the active phase
  std::uint64_t actions = 0;
  std::uint64_t faults = 0;
  std::uint64_t deltas_sent = 0;
  std::uint64_t ipc_commands = 0;
  std::uint64_t room_windows = 0; // in the server's state at the end
  std::uint64_t trace_hash = 0;   // same seed and config => same hash
  std::vector<std::string> trace; // when keep_trace
};

// Progress callback: called with one-line messages (phase changes).
SimReport run_simulation(const SimConfig& config, const std::function<void(const std::string&)>& progress = {});

}  // namespace wibwob::sim
