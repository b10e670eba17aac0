// ChatRelay: room chat and presence, between the room and the app's chat
// window (spec/wibwob-ipc.md: room_chat_pending, room_chat_receive,
// room_presence, room_chat_display_name).
//
// Bounds against a hostile room: lines shown per second (a token bucket;
// lines over it are dropped and counted), the inbox size, the presence list
// size (joins beyond it are skipped and counted).
//
// Room -> app: chat lines wait in a bounded inbox (the oldest is dropped when
// the app does not keep up) and are shown one IPC request at a time, in
// order; a line stays at the front until the app answered for it. Presence
// (sync/join/leave, renames) is kept as a bounded set and re-sent to the app
// whenever it changed. App -> room: lines typed in the chat window are read
// with room_chat_pending every chat poll interval while the room is synced,
// and sent to the room under the app's display name.
//
// The relay only proposes requests (take_request) and digests replies; the
// engine's scheduler decides when the single IPC slot is free for them.
// Pure: no I/O, no clock.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/token_bucket.hpp"
#include "protocol/ipc_outcome.hpp"
#include "protocol/room_message.hpp"

namespace wibwob::bridge {

class ChatRelay {
 public:
  ChatRelay(std::size_t max_inbox, std::size_t max_presence, TokenBucket rate)
      : max_inbox_(max_inbox), max_presence_(max_presence), rate_(rate) {}

  enum class Kind { display_name, receive, presence, pending };
  struct Request {
    Kind kind;
    std::string line;
  };
  struct Counts {
    std::uint64_t dropped = 0;  // lines lost: inbox overflow, too long for the IPC
    bool overflowed = false;    // this call dropped a line for the inbox bound
    bool rate_limited = false;  // this call dropped a line over the chat rate
    std::uint64_t presence_skipped = 0;  // participants beyond the presence bound
    bool too_long = false;      // this call dropped a line too long for the IPC
  };

  // --- room side ---
  Counts on_chat(protocol::room::ChatMsg m, Ms now);
  void on_rename(const protocol::room::Rename& r);
  Counts on_presence(const protocol::room::Presence& p);
  void on_link_down() { presence_.clear(); }

  // --- app side ---
  void want_pending() { pending_wanted_ = true; }
  // A new app process shows nobody in its chat window yet; a list the app
  // did not take is offered again (the participant list is state, not an
  // event). Found by the simulator with chat on (seed 8).
  void on_new_app_process() { presence_dirty_ = true; }
  void on_request_failed(Kind kind) {
    if (kind == Kind::presence) presence_dirty_ = true;
  }
  // The next request for the app, if any; consumes the wish it serves.
  // `synced`: room_chat_pending is only worth reading when lines can be sent.
  // `window_open`: the app shows a room_chat window. Without one it takes no
  // lines and no participant list and has nothing typed: the relay asks
  // nothing and keeps the lines (bounded) for when a window opens.
  std::optional<Request> take_request(bool synced, bool window_open, Counts& counts);

  struct Digest {
    std::vector<protocol::room::ChatMsg> to_room;  // lines typed locally
    bool delivered = false;                        // a room line reached the app
    bool bad_reply = false;                        // the reply made no sense
    std::string refused;                           // the app's reason for not taking it
  };
  // The app answered `kind`. `fallback_sender` names this instance when the
  // app has no display name.
  Digest on_reply(Kind kind, const protocol::IpcOutcome& reply, const std::string& fallback_sender);

  std::size_t inbox() const noexcept { return inbox_.size(); }
  // Something waits for the app: a line, the participant list, the name.
  bool has_work(bool window_open) const noexcept {
    return display_name_wanted_ || (window_open && (!inbox_.empty() || presence_dirty_));
  }
  std::size_t participants() const noexcept { return presence_.size(); }

 private:
  std::optional<std::string> presence_line() const;

  std::size_t max_inbox_;
  std::size_t max_presence_;
  TokenBucket rate_;
  std::deque<protocol::room::ChatMsg> inbox_;
  std::set<std::string> presence_;
  std::string self_conn_;
  std::map<std::string, std::string> names_;  // conn id -> display name (rename)
  std::optional<std::string> display_name_;
  bool display_name_wanted_ = true;
  bool presence_dirty_ = false;
  bool pending_wanted_ = false;
};

}  // namespace wibwob::bridge
