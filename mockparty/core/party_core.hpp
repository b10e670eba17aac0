// PartyCore: the PartyKit room server's behaviour (spec/partykit-room.md) as a
// pure state machine. It holds every room (canonical state + version, the
// sockets in each room, presence) and turns each input (a socket opened, a
// text or binary frame, a socket gone, a fault) into a list of effects for
// the caller to execute: send this text to socket S, close socket S with a
// code, persist room R, log an incoming message.
//
// Pure: no Asio, no sockets, no clocks, no randomness. Socket handles and
// connection ids come from the caller (the Beast shell, or the simulator on
// virtual time); the current epoch time in ms is passed to each call that
// needs it (pong, chat_msg ts). Deltas are applied with
// protocol::apply_room_delta and frames built with protocol::room::encode,
// the same code the bridge uses, so the mock and the bridge cannot disagree.
//
// By default it reproduces the real server, defects included (see Defects);
// each defect can be switched off to get an ideal server.
//
// Not thread-safe; the shell calls it from its one io_context thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/room_message.hpp"
#include "protocol/window.hpp"

namespace wibwob::mockparty {

using Json = protocol::Json;
// The caller's handle for one WebSocket (unique for the core's lifetime).
using SocketId = std::uint64_t;

// The real server's known defects. All on by default: the mock is faithful.
struct Defects {
  // presence "leave" reports one less than the connections that remain.
  bool leave_count_off_by_one = true;
  // The server never answers a client's close frame (the shell executes
  // this; the core only carries the flag so one Options describes a server).
  bool no_close_reply = true;
  // A second socket with the `_pk` of a socket that is still open becomes a
  // ghost: it gets its state_sync/presence sync and replies (pong), its
  // messages are handled, but it never receives a broadcast. Off: every
  // socket is its own connection and only the sending socket is skipped.
  bool duplicate_pk_ghost = true;
  // A delta that makes the saved state exceed Options::max_state_bytes
  // changes memory (version included) but is neither saved nor broadcast.
  // Off: no limit, everything is saved and broadcast.
  bool state_limit_silent = true;

  static Defects none() { return Defects{false, false, false, false}; }
  friend bool operator==(const Defects&, const Defects&) = default;
};

struct Options {
  Defects defects;
  // Serialised state (JSON of RoomState::to_json) must stay under this.
  std::size_t max_state_bytes = protocol::max_state_bytes;
  // Text frames above this close the socket with 1009 (the shell's
  // WebSocket layer normally enforces it first; the core checks too so the
  // simulator gets the same rule).
  std::size_t max_frame_bytes = protocol::max_frame_bytes;
};

// --- effects ------------------------------------------------------------------

// Send `text` to socket `to`. `type`/`version` describe it for the log.
struct Send {
  SocketId to = 0;
  std::string text;
  std::string type;
  std::optional<std::int64_t> version;
  friend bool operator==(const Send&, const Send&) = default;
};

// Close socket `to` with a close frame carrying `code`.
struct Close {
  SocketId to = 0;
  std::uint16_t code = 1000;
  std::string reason;
  friend bool operator==(const Close&, const Close&) = default;
};

// Save `state_json` (RoomState::to_json().dump()) as room `room`'s state.
struct Persist {
  std::string room;
  std::string state_json;
  friend bool operator==(const Persist&, const Persist&) = default;
};

// Something arrived (dir "in") or happened (dir "event": open, close,
// ignored input, state limit exceeded...). Outgoing messages are logged by
// the shell when it actually writes them (after any injected delay).
struct Log {
  std::string room;
  std::string conn;        // connection id (_pk)
  std::string dir;         // "in" or "event"
  std::string type;        // message type, or the event name
  std::optional<std::int64_t> version;
  std::string note;        // why something was ignored, etc.
  friend bool operator==(const Log&, const Log&) = default;
};

using Effect = std::variant<Send, Close, Persist, Log>;
using Effects = std::vector<Effect>;

// --- the core -------------------------------------------------------------------

struct SocketInfo {
  std::string room;
  std::string conn;  // connection id
  bool ghost = false;
};

class PartyCore {
 public:
  explicit PartyCore(Options options = {});

  const Options& options() const { return options_; }
  void set_defects(const Defects& d) { options_.defects = d; }

  // Rooms come into being on their first connection with an empty state,
  // unless the caller loaded a persisted state first.
  bool has_room(std::string_view room) const;
  // Installs a persisted state for a room that has no state in memory yet
  // (returns false and changes nothing otherwise).
  bool load_room(const std::string& room, protocol::RoomState state);

  // A WebSocket to `room` completed its upgrade; `conn` is its `_pk` (or an
  // id the caller generated). `socket` must be new. Sends state_sync then
  // presence sync to it, presence join to the others.
  Effects on_open(SocketId socket, const std::string& room, const std::string& conn);
  // One text frame. `now_ms` is the epoch time for pong and chat ts.
  Effects on_text(SocketId socket, std::string_view text, std::int64_t now_ms);
  // One binary frame: ignored (logged), the connection stays.
  Effects on_binary(SocketId socket, std::size_t bytes);
  // The socket is gone (close frame, error, drop). Presence leave to the
  // others. Unknown sockets are ignored (idempotent).
  Effects on_close(SocketId socket);

  // Fault: close every socket of `room` with `code` (the sockets stay known
  // until the shell reports on_close for each).
  Effects drop_room(std::string_view room, std::uint16_t code = 1012) const;

  // Observation.
  const protocol::RoomState* state(std::string_view room) const;
  std::vector<std::string> rooms() const;
  const SocketInfo* socket(SocketId s) const;
  std::vector<SocketId> sockets(std::string_view room) const;  // join order, ghosts last
  std::size_t socket_count() const { return sockets_.size(); }

  // Counters since construction.
  struct Stats {
    std::uint64_t deltas_applied = 0;    // version bumps (incl. silent over-limit ones)
    std::uint64_t deltas_rejected = 0;   // no delta / threw part way
    std::uint64_t over_limit = 0;        // applied in memory, not saved or broadcast
    std::uint64_t ignored = 0;           // bad JSON, binary, unknown types
    std::uint64_t messages_in = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Room {
    protocol::RoomState state;
    std::vector<SocketId> members;  // receive broadcasts; join order
    std::vector<SocketId> ghosts;   // duplicate-_pk sockets (defect on)
  };

  Room& room(const std::string& name);
  // Everyone in the room but the sender (by connection id when the ghost
  // defect is on, as the real server excludes ids; by socket otherwise).
  std::vector<SocketId> others(const Room& r, SocketId sender) const;
  std::int64_t member_count(const Room& r) const;
  void broadcast(Effects& out, const Room& r, SocketId sender, const std::string& text, const std::string& type,
                 std::optional<std::int64_t> version) const;
  void handle_delta(Effects& out, SocketId s, const SocketInfo& info, const Json& msg);
  void relay(Effects& out, SocketId s, const SocketInfo& info, Json msg, std::int64_t now_ms);

  Options options_;
  std::map<std::string, Room, std::less<>> rooms_;
  std::map<SocketId, SocketInfo> sockets_;
  Stats stats_;
};

}  // namespace wibwob::mockparty
