// SimRoom: the room server's message rules for the simulator, as a pure
// object (connections are names, output is a list of frames to deliver).
//
// It follows shared/spec/partykit-room.md: state_sync + presence sync to a
// joiner, presence join/leave to the others, state_delta applied with
// protocol::apply_room_delta (the one implementation of the server's delta
// semantics), version + 1, broadcast with version and from to all but the
// sender, ping -> pong to the sender only, chat relayed; anything else ignored.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "protocol/window.hpp"

namespace wibwob::sim {

struct Outgoing {
  std::string conn;
  std::string text;
};

class SimRoom {
 public:
  explicit SimRoom(std::string name) : name_(std::move(name)) {}

  std::vector<Outgoing> on_connect(const std::string& conn);
  std::vector<Outgoing> on_message(const std::string& conn, const std::string& text, std::chrono::milliseconds now);
  std::vector<Outgoing> on_close(const std::string& conn);

  const protocol::RoomState& state() const { return state_; }

 private:
  std::string name_;
  protocol::RoomState state_;
  std::vector<std::string> conns_;  // join order
};

}  // namespace wibwob::sim
