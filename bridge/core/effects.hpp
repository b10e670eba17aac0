// What the bridge engine asks its shell to do (effects), how it is
// configured, and what it counts. Pure data shared by the engine's parts, the
// shell (bridge/io) and the simulator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bridge/core/handover.hpp"
#include "bridge/core/path_policy.hpp"
#include "bridge/core/room_ledger.hpp"
#include "common/backoff.hpp"
#include "common/log_level.hpp"
#include "common/time.hpp"
#include "protocol/ipc_outcome.hpp"
#include "protocol/window.hpp"

namespace wibwob::bridge {

using wibwob::LogLevel;
using wibwob::Ms;
using protocol::IpcFailure;
using protocol::IpcOutcome;

struct EngineConfig {
  std::string origin;                  // unique per bridge run, [A-Za-z0-9]+
  Ms poll_interval{250};               // get_state polling (sync.md: default 250 ms)
  Ms chat_poll_interval{500};          // room_chat_pending polling
  Ms sync_timeout{5000};               // open connection without state_sync: reconnect
  bool sync_layout = true;             // false: WIBWOB_NO_STATE_SYNC (chat/presence only)
  bool relay_chat = true;
  BackoffConfig backoff{};
  std::uint64_t seed = 1;              // reconnect jitter
  protocol::Limits limits{};
  // What the room may do to this desktop (docs/security.md). Each default is
  // far above what a real room does; a hostile one is held to it.
  PathPolicy paths;                    // files path windows may open: none by default
  std::size_t max_room_windows = 128;  // windows from the room shown at once
  double max_ipc_per_second = 25;      // IPC requests to the app (it serves 50/s); 0: unbounded
  double ipc_burst = 10;
  double max_chat_per_second = 10;     // room chat lines shown per second; 0: unbounded
  double chat_burst = 20;
  std::size_t max_chat_queue = 256;    // incoming chat waiting for the app
  std::size_t max_presence = 64;       // participants shown to the app
  std::size_t state_warn_bytes = 100 * 1024;  // warn before the server's 128 KiB limit
  // Bridge restarts (handover.hpp): what the previous run's take_handover()
  // gave (none: match by content), the shell's identity of the app process
  // at start (empty: unknown) and of the room (server and room name).
  std::optional<Handover> handover;
  std::string app_key;
  std::string room_key;
  // After a reconnect (docs/bridge.md): never change this in a bridge; the
  // legacy rule exists so the simulator can show its oracle catches it.
  ResendRule resend_rule = ResendRule::unchanged_since_confirmed;
};

namespace effect {
struct SendIpc { std::uint64_t id; std::string line; };
struct SendRoom { std::string text; };
struct ConnectRoom {};
struct CloseRoom { std::string reason; };
struct Log { LogLevel level; std::string text; };
}  // namespace effect
using Effect = std::variant<effect::SendIpc, effect::SendRoom, effect::ConnectRoom,
                            effect::CloseRoom, effect::Log>;
using Effects = std::vector<Effect>;

struct EngineStats {
  std::uint64_t polls = 0;
  std::uint64_t deltas_sent = 0;
  std::uint64_t deltas_received = 0;
  std::uint64_t ipc_commands = 0;
  std::uint64_t ipc_failures = 0;
  std::uint64_t bad_ipc_replies = 0;
  std::uint64_t bad_room_messages = 0;
  std::uint64_t skipped_windows = 0;     // invalid or policy-refused room windows
  std::uint64_t uncreatable = 0;         // room windows this app could not create
  std::uint64_t resyncs = 0;             // version accounting lost: reconnected
  std::uint64_t connects = 0;
  std::uint64_t app_restarts = 0;
  std::uint64_t chat_in = 0;
  std::uint64_t chat_out = 0;
  std::uint64_t chat_dropped = 0;       // inbox overflow, too long, over the chat rate
  std::uint64_t chat_over_rate = 0;     // of those: incoming lines over --max-chat-per-second
  std::uint64_t over_window_bound = 0;  // room windows held back by max_room_windows
  std::uint64_t presence_skipped = 0;   // participants beyond max_presence
  std::uint64_t ipc_throttled = 0;      // times the IPC slot waited for the rate bound
  // After reconnects (docs/bridge.md, "After a reconnect"):
  std::uint64_t offline_changes = 0;    // local changes seen while not synced (before folding)
  std::uint64_t offline_peak = 0;       // most windows holding offline changes at once
  std::uint64_t resent_deltas = 0;      // deltas sent right after a state_sync (at most one each)
  std::uint64_t resent_entries = 0;     // window entries in them
  std::uint64_t resent_entries_peak = 0;  // most entries sent after one state_sync
  std::uint64_t unproven_windows = 0;   // windows with own writes sent but not proven sequenced
  std::uint64_t unproven_dropped = 0;   // of those, not re-sent: the window was written since
  std::uint64_t came_back = 0;          // windows it removed that came back (a late write), removed again
};

}  // namespace wibwob::bridge
