// SyncEngine: the bridge's sans-I/O state machine, composed of parts.
//
// It owns every decision the bridge makes and none of the I/O. Inputs are
// method calls carrying the current time; outputs are Effects the caller
// executes. The real bridge (bridge/io) maps effects to sockets and timers;
// the simulator maps them to simulated peers on virtual time. Same inputs,
// same outputs: the engine is deterministic (its only randomness is the
// seeded RNG for reconnect jitter).
//
// The parts, each testable alone (docs/bridge.md):
//  - RoomLedger   the room's sequenced history: confirmed, pending and
//                 offline deltas, version gaps, the ping barrier;
//  - AppMirror    room id <-> local id, app incarnations, adoption, the
//                 layout the bridge believes the app shows;
//  - Reconciler   target layout -> the next window command, and why a
//                 window cannot be created here;
//  - ChatRelay    chat lines and presence between room and app;
//  - this class   the room link's state, the single IPC slot and the order
//                 in which polls, window commands and chat take it.
//
// Contract for the caller (the "shell"):
//  - call start() once, then on_timer() whenever next_deadline() passes;
//  - execute SendIpc one at a time as given (the engine never has two IPC
//    requests outstanding) and report each with on_ipc_reply();
//  - feed subscription lines to on_ipc_event();
//  - on ConnectRoom open a fresh room connection (fresh _pk) and report
//    on_room_open() or on_room_closed(); on CloseRoom close it (then report
//    on_room_closed()); pass every text frame to on_room_message(). Frames
//    that arrive after the engine asked to close are ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "bridge/core/app_mirror.hpp"
#include "bridge/core/chat_relay.hpp"
#include "bridge/core/effects.hpp"
#include "bridge/core/own_events.hpp"
#include "bridge/core/reconciler.hpp"
#include "bridge/core/room_ledger.hpp"
#include "common/token_bucket.hpp"
#include "protocol/room_message.hpp"

namespace wibwob::bridge {

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
  // The shell's identity of the app process (e.g. its socket file's inode and
  // time), reported at start and whenever it (re)subscribes to events. A
  // known identity replaced by another one is a new process.
  Effects on_app_identity(std::string key, Ms now);
  // After each input: the handover for the next bridge run when it changed
  // since the last call (persist it; handover.hpp), else nothing.
  std::optional<Handover> take_handover();

  Effects on_room_open(Ms now);
  Effects on_room_message(std::string_view text, Ms now);
  Effects on_room_closed(Ms now);

  // --- observation (tests, the simulator, the runtime's status line) ---
  const EngineStats& stats() const noexcept { return stats_; }
  bool room_synced() const noexcept { return link_ == Link::synced; }
  bool room_connected() const noexcept { return link_ == Link::open_unsynced || link_ == Link::synced; }
  std::size_t unplaced_deltas() const noexcept { return ledger_.pending(); }
  std::size_t offline_deltas() const noexcept { return ledger_.offline(); }
  std::size_t held_over_bound() const noexcept { return reconciler_.held(); }
  // A member of the room runs the earlier bridge (bare local ids like "w3").
  bool mixed_room() const noexcept { return mixed_room_; }
  // Nothing in flight or waiting (deltas, chat for the app, a throttled
  // request), and the app matches the target.
  bool idle() const noexcept;
  std::optional<std::int64_t> confirmed_version() const;
  // The layout the engine drives the app towards, in room ids. Derived from
  // the ledger once per ledger revision, not on every pump, poll or status;
  // valid until the ledger next changes.
  const protocol::Layout& target() const;
  // What the engine believes the app shows, in room ids.
  const protocol::Layout& believed_app_layout() const noexcept { return mirror_.believed(); }
  std::optional<std::string> local_id_of(const std::string& room_id) const { return mirror_.local_id_of(room_id); }
  std::optional<std::string> room_id_of(const std::string& local_id) const { return mirror_.room_id_of(local_id); }
  std::size_t pending_deltas() const noexcept { return ledger_.pending() + ledger_.offline(); }
  const std::string& origin() const noexcept { return mirror_.origin(); }
  // Room windows this app does not show, and why.
  const std::map<std::string, std::string>& not_created() const noexcept { return reconciler_.refused(); }

 private:
  // down -> connecting -> open_unsynced -> synced; closing after the engine
  // asked the shell to close, until the shell reports the connection closed.
  enum class Link { down, connecting, open_unsynced, synced, closing };
  struct Poll {};
  using Op = std::variant<Poll, WindowCommand, ChatRelay::Kind>;

  // room side
  void dispatch_room(protocol::room::Message&& m, Ms now, Effects& out);
  void handle_state_sync(protocol::room::StateSync&& m, Effects& out);
  void handle_remote_delta(const protocol::room::StateDelta& m, Effects& out);
  void handle_pong(Effects& out);
  void notice_legacy_ids(const protocol::RoomState& state, Effects& out);
  void handle_chat(protocol::room::ChatMsg&& m, Effects& out);
  void handle_presence(const protocol::room::Presence& p, Effects& out);
  void close_room(const std::string& reason, Effects& out);
  void schedule_reconnect(Ms now, Effects& out);
  void send_delta(const protocol::Delta& change, Effects& out);
  void send_tagged(protocol::Json delta, Effects& out);
  void remove_came_back(Effects& out);
  void send_room(const protocol::room::Message& m, Effects& out);

  // app side
  void handle_ipc_failure(const Op& op, const IpcOutcome& o, Effects& out);
  void handle_poll_reply(const IpcOutcome& o, Effects& out);
  void handle_window_reply(const WindowCommand& cmd, const IpcOutcome& o, Effects& out);
  void handle_chat_reply(ChatRelay::Kind kind, const IpcOutcome& o, Effects& out);
  void adopt(Effects& out);
  void resume_or_adopt(Effects& out);

  // the IPC slot
  void pump(Effects& out);
  bool pump_windows(Effects& out);
  bool pump_chat(Effects& out);
  void issue(Op op, std::string line, Effects& out);
  void expect_own_event(const WindowCommand& cmd);
  void settle_own_event(const WindowCommand& cmd, bool ok, const std::optional<std::string>& id);

  void log(Effects& out, LogLevel level, std::string text);
  void log_once(Effects& out, const std::string& kind, LogLevel level, std::string text);

  EngineConfig cfg_;
  std::mt19937_64 rng_;
  Backoff backoff_;
  EngineStats stats_;
  std::set<std::string> logged_kinds_;

  RoomLedger ledger_;
  mutable std::optional<std::pair<std::uint64_t, protocol::Layout>> target_;  // (ledger revision, target())
  AppMirror mirror_;
  Reconciler reconciler_;
  ChatRelay chat_;
  OwnEvents own_events_;

  // room link
  Link link_ = Link::down;
  bool mixed_room_ = false;
  bool chat_window_open_ = false;  // at the last poll: chat is read and shown only then
  std::optional<Ms> connect_at_;
  std::optional<Ms> sync_deadline_;

  // the IPC slot
  Ms now_{0};                       // time of the input being handled
  TokenBucket ipc_rate_;
  std::optional<Ms> throttled_until_;  // the slot waits for the rate bound
  std::optional<std::pair<std::uint64_t, Op>> inflight_;
  std::uint64_t next_ipc_id_ = 1;
  bool poll_wanted_ = true;
  std::optional<std::int64_t> last_event_seq_;  // the app's event numbering
  Ms next_poll_at_{0};
  Ms next_chat_at_{0};

  // bridge restarts: the previous run's mapping until the first poll, and
  // what take_handover() last reported (mirror revision, create in flight)
  std::optional<Handover> resume_;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> handover_taken_;
};

}  // namespace wibwob::bridge
