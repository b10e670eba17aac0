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

std::string bridge_status_path(const std::string& ipc_socket_path) {
  constexpr std::string_view suffix = ".sock";
  if (ipc_socket_path.size() > suffix.size() && ipc_socket_path.ends_with(suffix))
    return ipc_socket_path.substr(0, ipc_socket_path.size() - suffix.size()) + ".bridge.sock";
  return ipc_socket_path + ".bridge.sock";
}

}  // namespace wibwob::protocol
