// libFuzzer target for the IPC codec's parsers (protocol/ipc.hpp). Every
// parser must be total: any bytes give a value or an Error, never a crash,
// hang, sanitizer report or uncaught exception.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "protocol/ipc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace ipc = wibwob::protocol::ipc;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  const ipc::Command cmd = ipc::parse_request(bytes);
  // What the app decodes must be rebuildable unless it is malformed or too
  // large; building must itself never crash.
  ipc::Params params(cmd.params.begin(), cmd.params.end());
  (void)ipc::build_request(cmd.name, params);

  const ipc::Reply reply = ipc::classify_reply(bytes);
  (void)reply;

  // parse_get_state's one-pass reader of the app's own form answers only
  // where the JSON path gives the same state (docs/simulator.md, "Speed").
  if (auto fast = ipc::parse_get_state_app_form(bytes)) {
    const auto json = ipc::parse_get_state_json(bytes);
    if (!json || !(*json == *fast)) __builtin_trap();
  }
  if (auto state = ipc::parse_get_state(bytes)) {
    // Re-formatting may give invalid JSON (a \u0001 title comes back raw: the
    // app's quirk); the parser must survive its own formatter's output.
    (void)ipc::parse_get_state(ipc::format_get_state(*state));
  }
  if (auto ev = ipc::parse_event_line(bytes)) {
    if (auto* e = std::get_if<ipc::Event>(&*ev)) (void)ipc::format_event(*e);
  }
  (void)ipc::extract_hmac(bytes);
  (void)ipc::verify_auth(bytes, "secret", "0123456789abcdef0123456789abcdef");
  (void)ipc::parse_challenge(bytes);
  (void)ipc::classify_auth_result(bytes);
  (void)ipc::percent_decode(bytes);
  return 0;
}
