// Where the app's IPC socket, the bridge's status socket and its handover
// file live: the one place that spells the names (spec/wibwob-ipc.md, "Transport").
#pragma once

#include <optional>
#include <string>

namespace wibwob::protocol {

// <dir>/wibwob_<instance>.sock; an empty dir is /tmp, trailing slashes are dropped.
std::string instance_socket_path(const std::string& dir, const std::string& instance);

// Where the app listens: /tmp/wibwob_<instance>.sock (WIBWOB_INSTANCE set and
// not empty), else /tmp/wwdos.sock.
std::string default_socket_path(const std::optional<std::string>& instance);

// The bridge's status socket beside the app's IPC socket:
// /tmp/wibwob_2.sock -> /tmp/wibwob_2.bridge.sock (any other path: + ".bridge.sock").
std::string bridge_status_path(const std::string& ipc_socket_path);

// The bridge's handover file beside it (docs/bridge.md, "Bridge restart"):
// /tmp/wibwob_2.sock -> /tmp/wibwob_2.bridge.handover.
std::string bridge_handover_path(const std::string& ipc_socket_path);

}  // namespace wibwob::protocol
