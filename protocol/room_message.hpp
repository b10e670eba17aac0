// Codec for every message of the PartyKit room protocol
// (spec/partykit-room.md). Both the bridge and mockparty use it.
//
// decode() never throws: bytes that are not a JSON object with a string
// `type` are an Error; a well-formed object with a type this codec does not
// know decodes as Unknown (the server ignores those, and so do we); a known
// type whose fields have the wrong types is an Error (Errc::wrong_type or
// Errc::missing_field). encode() refuses frames over max_frame_bytes.
//
// Field rules (chosen so that decode(encode(m)) == m for every message whose
// strings are valid UTF-8):
//  - Required fields (`type`; state_sync `state`, `room`; presence `event`,
//    `count`; chat_msg `sender`, `text`; cursor_pos `sender`, `x`, `y`;
//    rename `conn_id`, `name`; pong `ts`) absent -> Errc::missing_field,
//    present with the wrong JSON type -> Errc::wrong_type.
//  - std::optional fields are written only when they hold a value; on decode
//    an absent field and an explicit JSON null both give nullopt (JavaScript
//    peers use null and undefined interchangeably). Present with any other
//    wrong type -> Errc::wrong_type.
//  - Exception: StateDelta::delta is raw JSON. Present (even null) -> a value,
//    absent -> nullopt, because the server treats `delta: null` and a missing
//    delta alike only by accident of its code; the receiver decides.
//  - Presence::connections is written when non-empty or when event == "sync";
//    absent decodes as empty. Its length is capped by Limits::max_windows
//    (Errc::too_large). Presence does not check which fields each event needs:
//    the consumer does.
//  - Integers (count, version, ts, x, y) accept an integral double such as
//    3.0 (JavaScript does not distinguish); 3.5 -> Errc::wrong_type; outside
//    int64 -> Errc::bad_value.
//  - Fields a known type does not define are dropped on decode.
//  - Unknown keeps the whole object in `raw`; to_json(Unknown) is `raw` (an
//    object) with `type` set to Unknown::type. Round trip holds for Unknown
//    values decode produces (raw an object whose type is that unknown type).
//  - decode(text) refuses text over max_frame_bytes (Errc::too_large), bytes
//    that are not JSON or not UTF-8 (Errc::not_json), and JSON nested deeper
//    than max_message_depth (Errc::too_deep, checked before parsing, so a
//    hostile frame cannot exhaust the stack). decode(Json) checks depth too,
//    without recursion, and refuses numbers beyond double range such as
//    1e400 (Errc::bad_value): JavaScript would relay them as null.
//  - encode() returns Errc::too_large over max_bytes and Errc::bad_value for
//    a string that is not valid UTF-8. Output is compact (no spaces).
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
// Deepest JSON nesting a room message may have (a window inside a state
// inside a message is at depth 4; windows themselves are capped by
// Limits::max_depth).
inline constexpr int max_message_depth = 64;

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
// Text overloads: Json converts implicitly from strings, so without these a
// std::string or a literal argument would be ambiguous between the two above.
inline Result<Message> decode(const std::string& text, const Limits& limits = {}) {
  return decode(std::string_view(text), limits);
}
inline Result<Message> decode(const char* text, const Limits& limits = {}) {
  return decode(std::string_view(text), limits);
}

Json to_json(const Message& m);
Result<std::string> encode(const Message& m, std::size_t max_bytes = max_frame_bytes);

}  // namespace room
}  // namespace wibwob::protocol
