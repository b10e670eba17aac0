// Handover: what one bridge run leaves for the next one beside the same app
// process, so a bridge restart neither duplicates nor loses windows
// (shared/spec/sync.md, requirement 8; docs/bridge.md, "Bridge restart").
//
// Matching the app's windows to the room's by content cannot tell a window
// the room moved while no bridge watched from a new one. The mapping itself
// can: the bridge keeps it (room id <-> local id), the layout it believed the
// app showed, and the create_window it had sent without seeing the reply.
// The shell writes it to a file after every change and hands it back at
// start; the engine resumes it only for the same app process (`app_key`,
// the shell's identity of the process) and the same room (`room_key`).
//
// Pure: JSON in and out, no I/O. The file is the user's own, but it is read
// like any other input: a bad one is an Error, never a crash.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "protocol/result.hpp"
#include "protocol/window.hpp"

namespace wibwob::bridge {

struct Handover {
  std::string app_key;   // which app process the mapping belongs to
  std::string room_key;  // which room (server and room name)
  std::map<std::string, std::string> room_to_local;  // room id -> the app's id ("w3")
  protocol::Layout believed;                         // what the app showed, in room ids
  protocol::Layout creating;  // create_window sent, its reply not seen: the app may show it unmapped

  friend bool operator==(const Handover&, const Handover&) = default;
};

// A handover of the largest layout the limits allow stays far below this.
inline constexpr std::size_t max_handover_bytes = 4 * 1024 * 1024;

// One JSON object: {"format":1,"app":...,"room":...,"map":{...},
// "believed":{...},"creating":{...}}.
std::string encode_handover(const Handover& h);

// Bounded by `limits` like any peer input (windows, id and string lengths,
// depth); local ids must look like the app's ("w" and digits); every mapped
// room id must be in `believed`. Any violation is an Error for the whole
// file: a half-trusted mapping is worse than none.
protocol::Result<Handover> decode_handover(std::string_view text, const protocol::Limits& limits = {});

}  // namespace wibwob::bridge
