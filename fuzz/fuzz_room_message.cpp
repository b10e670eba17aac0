// libFuzzer target for the room message codec (protocol/room_message.hpp)
// and the delta parser it hands `delta` to. Any bytes must give a value or an
// Error: no crash, hang, sanitizer report or uncaught exception. What decodes
// must re-encode, and (being valid UTF-8, having been parsed) decode again to
// the same message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "protocol/room_message.hpp"
#include "protocol/window.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace proto = wibwob::protocol;
  namespace room = wibwob::protocol::room;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  auto msg = room::decode(bytes);
  if (!msg) return 0;

  // Round trip: decode(encode(m)) == m for anything decode produced. A
  // violation is a bug in the codec, so crash loudly for libFuzzer.
  auto text = room::encode(*msg);
  if (!text) std::abort();
  auto again = room::decode(*text);
  if (!again || !(*again == *msg)) std::abort();

  if (const auto* d = std::get_if<room::StateDelta>(&*msg); d && d->delta) {
    (void)proto::parse_delta(*d->delta);
    // The server's semantics on hostile deltas must be total too.
    proto::RoomState state;
    (void)proto::apply_room_delta(state, &*d->delta);
    (void)state.to_json().dump();
  }
  if (const auto* s = std::get_if<room::StateSync>(&*msg)) {
    (void)proto::normalise_layout(s->state.to_json()["windows"]);
  }
  return 0;
}
