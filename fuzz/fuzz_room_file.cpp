// libFuzzer target for the room-file parser (orchestrator/core/room_file.hpp):
// any bytes give a Room or diagnostics, never a crash, hang, sanitizer
// report or escaping exception. A parsed room obeys the rules the parser
// promises (no error diagnostics, ids present), and two copies of it clash on
// all three unique keys.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "orchestrator/core/room_file.hpp"

namespace orch = wibwob::orchestrator;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const orch::RoomFileResult r = orch::parse_room_file("rooms/fuzz.md", text);
  for (const auto& d : r.diagnostics) {
    if (r.ok() && d.is_error()) std::abort();  // a room is returned only without errors
    (void)orch::format(d);
  }
  if (!r.ok()) {
    bool has_error = false;
    for (const auto& d : r.diagnostics) has_error = has_error || d.is_error();
    if (!has_error) std::abort();  // a refusal always says why
    return 0;
  }
  if (r.room->room_id.empty()) std::abort();
  orch::Room other = *r.room;
  other.source = "rooms/copy.md";
  // room_id, instance_id and ttyd_port each clash once.
  if (orch::check_room_set({*r.room, other}).size() != 3) std::abort();
  (void)orch::suggest_key(text.substr(0, 64));
  return 0;
}
