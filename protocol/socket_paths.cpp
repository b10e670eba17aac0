#include "protocol/socket_paths.hpp"

#include <string_view>

namespace wibwob::protocol {

std::string instance_socket_path(const std::string& dir, const std::string& instance) {
  std::string d = dir.empty() ? "/tmp" : dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return (d == "/" ? "" : d) + "/wibwob_" + instance + ".sock";
}

std::string default_socket_path(const std::optional<std::string>& instance) {
  if (instance && !instance->empty()) return instance_socket_path("/tmp", *instance);
  return "/tmp/wwdos.sock";
}

namespace {

// A file beside the app's socket: ".sock" gives way to `ending`.
std::string beside_socket(const std::string& ipc_socket_path, std::string_view ending) {
  constexpr std::string_view suffix = ".sock";
  const bool named = ipc_socket_path.size() > suffix.size() && ipc_socket_path.ends_with(suffix);
  return (named ? ipc_socket_path.substr(0, ipc_socket_path.size() - suffix.size()) : ipc_socket_path) +
         std::string(ending);
}

}  // namespace

std::string bridge_status_path(const std::string& ipc_socket_path) {
  return beside_socket(ipc_socket_path, ".bridge.sock");
}

std::string bridge_handover_path(const std::string& ipc_socket_path) {
  return beside_socket(ipc_socket_path, ".bridge.handover");
}

}  // namespace wibwob::protocol
