// libFuzzer target for the handover a bridge run leaves for the next one
// (bridge/core/handover.hpp). Any bytes must give a Handover or an Error: no
// crash, hang, sanitizer report or uncaught exception. What decodes must
// re-encode and decode again to the same handover, and every mapped window
// must be described (the invariant resuming relies on).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "bridge/core/handover.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace bridge = wibwob::bridge;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto h = bridge::decode_handover(bytes);
  if (!h) return 0;
  for (const auto& [rid, local] : h->room_to_local)
    if (!h->believed.count(rid) || local.empty() || local[0] != 'w') std::abort();
  auto again = bridge::decode_handover(bridge::encode_handover(*h));
  if (!again || !(*again == *h)) std::abort();
  return 0;
}
