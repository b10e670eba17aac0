// SyncEngine: the bridge's sans-I/O state machine.
//
// It owns every decision the bridge makes (what to poll, what changed
// locally, what to send to the room, how to order remote deltas, which IPC
// commands bring the app to the room's layout, when to reconnect) and none of
// the I/O. Inputs are method calls carrying the current time; outputs are
// Effects the caller executes. The real bridge (bridge/io) maps effects to
// sockets and timers; the simulator maps them to simulated peers on virtual
// time. Same inputs, same outputs: the engine is deterministic (its only
// randomness is the seeded RNG for reconnect jitter).
//
// Ordering follows shared/spec/sync.md: the room server is a single
// sequencer. The engine keeps the room's *confirmed* state (everything up to
// the last version it can place) and its own *pending* deltas (sent, not yet
// placed). Each version gap in what it receives is filled by its own pending
// deltas, oldest first. A `ping` after each delta is an ordering barrier: its
// `pong` proves every earlier delta was sequenced, so those are folded into
// confirmed at once. The app is driven towards confirmed ⊕ pending ⊕ offline.
//
// Identity: local ids (w1, w2…) are never sent. Each local window gets a room
// id "<origin>:<local id>" where origin is unique per bridge run and app
// incarnation; the engine keeps the mapping in both directions.
//
// Contract for the caller (the "shell"):
//  - call start() once, then on_timer() whenever next_deadline() passes;
//  - execute SendIpc one at a time as given (the engine never has two IPC
//    requests outstanding) and report each with on_ipc_reply();
//  - feed subscription lines to on_ipc_event();
//  - on ConnectRoom open a fresh room connection (fresh _pk) and report
//    on_room_open() or on_room_closed(); on CloseRoom close it (then report
//    on_room_closed()); pass every text frame to on_room_message().
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bridge/core/backoff.hpp"
#include "protocol/ipc.hpp"
#include "protocol/room_message.hpp"
#include "protocol/window.hpp"

namespace wibwob::bridge {

using Ms = std::chrono::milliseconds;  // time since any fixed origin

struct EngineConfig {
  std::string origin;                  // unique per bridge run, [A-Za-z0-9]+
  Ms poll_interval{250};               // get_state polling (sync.md: default 250 ms)
  Ms chat_poll_interval{500};          // room_chat_pending polling
  Ms sync_timeout{5000};               // open connection without state_sync: reconnect
  bool sync_layout = true;             // false: WIBWOB_NO_STATE_SYNC (chat/presence only)
  bool relay_chat = true;
  BackoffConfig backoff{};
  std::uint64_t seed = 1;              // reconnect jitter
  std::vector<std::string> allowed_path_prefixes;  // empty: any absolute path
  protocol::Limits limits{};
  std::size_t max_chat_queue = 256;    // incoming chat waiting for the app
  std::size_t state_warn_bytes = 100 * 1024;  // warn before the server's 128 KiB limit
};

enum class LogLevel { debug, info, warn, error };

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

// How an IPC request ended, as the shell saw it.
enum class IpcFailure {
  none,
  unreachable,  // socket missing or connection refused: the app is not running
  timeout,      // connected but no reply in time (e.g. a modal dialog)
  auth,         // authentication refused or not offered
  io,           // any other I/O error
};
struct IpcOutcome {
  IpcFailure failure = IpcFailure::none;
  std::string text;  // the reply line when failure == none, else a description
};

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
  std::uint64_t chat_dropped = 0;
};

class SyncEngine {
 public:
  explicit SyncEngine(EngineConfig config);

  Effects start(Ms now);
  Effects on_timer(Ms now);
  std::optional<Ms> next_deadline() const;

  Effects on_ipc_reply(std::uint64_t id, const IpcOutcome& outcome, Ms now);
  Effects on_ipc_event(std::string_view line, Ms now);
  // The app refused a connection outside a request (e.g. re-subscribing to
  // events): it is down, and the next successful poll is a new process.
  Effects on_app_unreachable(Ms now);

  Effects on_room_open(Ms now);
  Effects on_room_message(std::string_view text, Ms now);
  Effects on_room_closed(Ms now);

  // --- observation (tests, the simulator, the runtime's status line) ---
  const EngineStats& stats() const noexcept { return stats_; }
  bool room_synced() const noexcept { return link_ == Link::synced; }
  bool idle() const noexcept;  // nothing in flight, nothing pending, app matches target
  std::optional<std::int64_t> confirmed_version() const;
  // The layout the engine drives the app towards, in room ids.
  protocol::Layout target() const;
  // What the engine believes the app shows, in room ids.
  const protocol::Layout& believed_app_layout() const noexcept { return app_; }
  std::optional<std::string> local_id_of(const std::string& room_id) const;
  std::optional<std::string> room_id_of(const std::string& local_id) const;
  std::size_t pending_deltas() const noexcept { return pending_.size() + offline_.size(); }
  const std::string& origin() const noexcept { return origin_; }

 private:
  enum class Link { down, connecting, open_unsynced, synced };
  enum class OpKind { poll, create, move, resize, close, chat_pending, chat_receive, presence, display_name };
  struct Op {
    OpKind kind;
    std::string room_id;        // window ops
    protocol::Window target;    // window ops: what we asked the app for
  };
  struct Pending {
    protocol::Json delta;
    std::uint64_t seq = 0;
  };

  // room side
  void handle_state_sync(protocol::room::StateSync&& m, Ms now, Effects& out);
  void handle_remote_delta(protocol::room::StateDelta&& m, Ms now, Effects& out);
  void handle_pong(Effects& out);
  void handle_presence(const protocol::room::Presence& p, Effects& out);
  void resync(const std::string& why, Ms now, Effects& out);
  void schedule_reconnect(Ms now, Effects& out);
  void send_local_delta(const protocol::Delta& d, Effects& out);
  void send_delta_json(protocol::Json delta, Effects& out);
  void send_room(const protocol::room::Message& m, Effects& out);

  // app side
  void handle_poll_reply(const IpcOutcome& o, Ms now, Effects& out);
  void handle_window_reply(const Op& op, const IpcOutcome& o, Effects& out);
  void adopt(Effects& out);
  void reset_app_mapping(const std::string& why, Effects& out);
  protocol::Window to_room_window(const protocol::ipc::AppWindow& w, const std::string& room_id) const;
  std::optional<Op> next_window_op(const protocol::Layout& target);
  bool creatable(const protocol::Window& w, std::string* why) const;
  std::optional<std::string> build_window_command(const Op& op);
  void pump(Ms now, Effects& out);
  void issue(Op op, std::string line, Effects& out);

  void log(Effects& out, LogLevel level, std::string text);
  void log_once(Effects& out, const std::string& kind, LogLevel level, std::string text);
  std::string new_room_id(const std::string& local_id) const;

  EngineConfig cfg_;
  std::string origin_;            // cfg_.origin, plus ".<n>" after the n-th app restart
  std::mt19937_64 rng_;
  Backoff backoff_;
  EngineStats stats_;
  std::set<std::string> logged_kinds_;

  // room
  Link link_ = Link::down;
  std::optional<Ms> connect_at_;
  std::optional<Ms> sync_deadline_;
  std::optional<protocol::RoomState> confirmed_;
  std::deque<Pending> pending_;                 // sent on this connection, not yet placed
  std::vector<protocol::Json> offline_;         // made while not synced
  std::deque<std::uint64_t> ping_marks_;        // per outstanding ping: last seq sent before it
  std::uint64_t next_seq_ = 1;
  std::set<std::string> presence_;
  std::string self_conn_;
  std::map<std::string, std::string> names_;    // conn id -> display name (rename)
  bool presence_dirty_ = false;

  // app
  std::optional<std::vector<protocol::ipc::AppWindow>> local_;  // last good poll
  bool adopted_ = false;
  bool app_unreachable_ = false;
  std::map<std::string, std::string> room_to_local_;
  std::map<std::string, std::string> local_to_room_;
  protocol::Layout app_;                        // believed app layout, room ids
  std::map<std::string, std::string> awaiting_id_;  // room id -> type (created without id)
  std::set<std::string> uncreatable_;           // room ids we will not create
  std::set<std::string> blocked_;               // failed since the last poll
  std::uint32_t app_epoch_ = 0;
  std::uint64_t max_local_number_ = 0;          // highest wN seen in this app process
  std::set<std::string> last_poll_ids_;         // every window id of the last good poll

  // IPC scheduling
  std::optional<std::pair<std::uint64_t, Op>> inflight_;
  std::uint64_t next_ipc_id_ = 1;
  bool poll_wanted_ = true;
  Ms next_poll_at_{0};
  Ms next_chat_at_{0};
  bool chat_wanted_ = false;
  std::optional<std::string> display_name_;
  bool display_name_wanted_ = true;
  std::deque<protocol::room::ChatMsg> chat_inbox_;
};

}  // namespace wibwob::bridge
