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
// quiet (no state_delta for two poll intervals). Room chat typed on any
// instance reaches every other instance exactly once and in order per sender
// unless a counted fault lost it (ChatCounts), and every app's presence list
// equals the room's connections.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace wibwob::sim {

using Ms = std::chrono::milliseconds;

// AC-4: one fault at a chosen time, after which people stop acting; the run
// measures how long until every instance is reconnected and in sync.
struct RecoveryProbe {
  enum class Kind { drop, room_restart } kind = Kind::drop;
  Ms at{5000};
  Ms server_down{1000};  // room_restart: how long the server is gone
};

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
  Ms app_tick{0};                 // the app serves one IPC connection per tick (real app: 20 ms)
  bool chat = true;               // bridges relay chat and presence; people type chat lines
  bool desktop_actions = true;    // assistants tile, cascade, close all, save and restore; people drag
  bool handover = true;           // a restarted bridge resumes the last run's mapping (wibwob-bridge's handover file)
  bool id_reuse = true;           // the app's id-reuse quirk (fakewibwob's default, as the real app)
  double chat_per_second = 1.5;   // lines typed, all instances together
  std::optional<RecoveryProbe> recovery;  // AC-4 (random faults off when set)
  // Long outages with busy people (issue 14): this many times per seed, at a
  // random time in the active phase, one instance cannot reach the room for
  // `long_outage` while a person on it keeps moving, resizing, opening and
  // closing windows (`busy_actions_per_second`).
  int long_outages = 0;
  Ms long_outage{60000};
  double busy_actions_per_second = 4;
  // Bridges re-send unproven deltas by the rule before issue 14 (only to show
  // that the write oracle catches it).
  bool legacy_resend = false;
  bool keep_trace = false;        // keep every trace line (for --verbose / failures)
};

// What happened to the chat lines people typed. A line lost for one of the
// reasons below is counted, not a failure (see docs/bridge.md, "Chat").
struct ChatCounts {
  std::uint64_t typed = 0;
  std::uint64_t reached_server = 0;
  std::uint64_t shown = 0;           // copies shown in a recipient's chat window
  std::uint64_t refused_by_app = 0;  // copies the app refused (no room_chat window)
  std::uint64_t missed_offline = 0;  // copies the server never relayed: recipient not connected
  std::uint64_t lost_app_crash = 0;  // lines still in the app's queue when it crashed
  std::uint64_t lost_bridge_restart = 0;  // lines and copies a restarted bridge held
  std::uint64_t lost_in_drop = 0;    // lines and copies on a connection that dropped
  std::uint64_t over_rate = 0;       // copies a recipient's bridge dropped over its chat rate bound (a burst)
};

// A latency measured by the acceptance probes.
struct Latency {
  std::uint64_t samples = 0;
  std::uint64_t excluded = 0;  // a fault touched the instance meanwhile
  Ms worst{0};
  void add(Ms t) {
    ++samples;
    worst = std::max(worst, t);
  }
};

// What bridges sent when they (re)joined the room, and what the write oracle
// followed (issue 14; docs/simulator.md, "After a reconnect").
struct ReconnectCounts {
  std::uint64_t long_outages = 0;
  std::uint64_t syncs = 0;                // state_syncs bridges got (joins and rejoins)
  std::uint64_t sync_deltas = 0;          // state_deltas bridges sent in answer to one
  std::uint64_t sync_deltas_peak = 0;     // most in answer to one
  std::uint64_t resent_deltas = 0;        // of those, deltas of re-sent and offline changes (at most one per state_sync)
  std::uint64_t resent_entries = 0;       // window entries in them
  std::uint64_t resent_entries_peak = 0;  // most after one state_sync
  std::uint64_t offline_changes = 0;      // local changes bridges saw while not synced
  std::uint64_t offline_peak = 0;         // most windows one bridge held with offline changes
  std::uint64_t unproven_windows = 0;     // windows with writes sent without proof at a state_sync
  std::uint64_t unproven_dropped = 0;     // not re-sent: the window was written since
  std::uint64_t came_back = 0;            // removed windows back (a late re-send, a move after the removal), removed again
  std::uint64_t oracle_writes = 0;        // writes the oracle followed through the server
  std::uint64_t oracle_relanded = 0;      // of those, sequenced more than once
  std::uint64_t oracle_never_landed = 0;  // sent, never sequenced (lost in a drop, not re-sent)
  std::uint64_t oracle_lost_with_bridge = 0;  // sent by a bridge restarted before they landed
};

struct SimReport {
  std::uint64_t seed = 0;
  bool converged = false;
  std::string failure;            // empty when converged
  Ms settled_after{0};            // from the end of the active phase
  std::uint64_t actions = 0;
  std::uint64_t assistant_actions = 0;  // tile, cascade, close_all, workspace save / restore
  std::uint64_t drags = 0;
  std::uint64_t faults = 0;
  std::uint64_t deltas_sent = 0;
  std::uint64_t ipc_commands = 0;
  std::uint64_t room_windows = 0; // in the server's state at the end
  ChatCounts chat;
  std::uint64_t presence_checked = 0;  // apps whose presence list was compared
  Latency open_to_room;           // AC-1: window opened -> state_delta at the room
  Latency remote_add_to_create;   // AC-2: remote add at a bridge -> create_window done
  std::uint64_t duplicate_creates = 0;  // AC-2: a second create_window for a shown room window (failure)
  // Windows a person opened with the id of a same-type window closed since
  // the bridge's last poll (the app's id-reuse quirk): indistinguishable
  // from a move through the IPC, so they travel under the old room id.
  std::uint64_t opened_over_reused_id = 0;
  std::optional<Ms> recovered_after;    // AC-4: fault healed -> every instance in sync
  ReconnectCounts reconnects;
  std::uint64_t trace_hash = 0;   // same seed and config => same hash
  std::vector<std::string> trace; // when keep_trace
};

// The wibwob-sim command line that replays `config` with its trace.
std::string replay_command(const SimConfig& config);

// Progress callback: called with one-line messages (phase changes).
SimReport run_simulation(const SimConfig& config, const std::function<void(const std::string&)>& progress = {});

}  // namespace wibwob::sim
