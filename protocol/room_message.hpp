// Codec for every message of the PartyKit room protocol
// (spec/partykit-room.md). Both the bridge and mockparty use it.
//
// decode() never throws: bytes that are not a JSON object with a string
// `type` are an Error; a well-formed object with a type this codec does not
// know decodes as Unknown (the server ignores those, and so do we); a known
// type whose fields have the wrong types is an Error (Errc::wrong_type or
// Errc::missing_field). encode() refuses frames over max_frame_bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/result.hpp"
#include "protocol/window.hpp"

namespace wibwob::protocol {

// The real server closes a connection with 1009 on frames above this.
inline constexpr std::size_t max_frame_bytes = 1024 * 1024;
// The real server saves the whole state as one value under this size.
inline constexpr std::size_t max_state_bytes = 128 * 1024;

namespace room {

// server -> joiner, first message after the upgrade
struct StateSync {
  RoomState state;
  std::string room;
  friend bool operator==(const StateSync&, const StateSync&) = default;
};

// server -> clients. `event` is "sync", "join" or "leave".
//  sync:  connections, count, self
//  join/leave: id, count
struct Presence {
  std::string event;
  std::vector<std::string> connections;
  std::optional<std::string> self;
  std::optional<std::string> id;
  std::int64_t count = 0;
  friend bool operator==(const Presence&, const Presence&) = default;
};

// client -> server: delta only. server -> others: delta, version, from.
// `delta` is kept as raw JSON: the server stores and relays it as sent, and
// the receiver validates it with parse_delta(). Absent delta = nullopt.
struct StateDelta {
  std::optional<Json> delta;
  std::optional<std::int64_t> version;
  std::optional<std::string> from;
  friend bool operator==(const StateDelta&, const StateDelta&) = default;
};

struct ChatMsg {
  std::string sender;
  std::string text;
  std::optional<std::int64_t> ts;  // epoch ms; the server fills it if absent
  std::optional<std::string> from;
  friend bool operator==(const ChatMsg&, const ChatMsg&) = default;
};

struct CursorPos {
  std::string sender;
  std::int64_t x = 0;
  std::int64_t y = 0;
  std::optional<std::string> from;
  friend bool operator==(const CursorPos&, const CursorPos&) = default;
};

struct Rename {
  std::string conn_id;
  std::string name;
  std::optional<std::string> from;
  friend bool operator==(const Rename&, const Rename&) = default;
};

struct Ping {
  friend bool operator==(const Ping&, const Ping&) = default;
};

struct Pong {
  std::int64_t ts = 0;
  friend bool operator==(const Pong&, const Pong&) = default;
};

// A JSON object with a string `type` this codec does not know.
struct Unknown {
  std::string type;
  Json raw;
  friend bool operator==(const Unknown&, const Unknown&) = default;
};

using Message = std::variant<StateSync, Presence, StateDelta, ChatMsg, CursorPos,
                             Rename, Ping, Pong, Unknown>;

// The wire `type` of a message ("state_sync", "presence", ...).
std::string_view type_name(const Message& m);

Result<Message> decode(std::string_view text, const Limits& limits = {});
Result<Message> decode(const Json& j, const Limits& limits = {});

Json to_json(const Message& m);
Result<std::string> encode(const Message& m, std::size_t max_bytes = max_frame_bytes);

}  // namespace room
}  // namespace wibwob::protocol
