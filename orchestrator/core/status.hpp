// `wibwob-rooms status`: what each room's app and bridge say about
// themselves, as one line per room for a person and as JSON for scripts.
// Pure: parsing the bridge's status answer, health, and formatting. The
// probes themselves are in orchestrator/io/status_probe.
//
// The bridge's status socket (the contract with wibwob-bridge): the app's IPC
// socket path with the trailing ".sock" replaced by ".bridge.sock". A client
// connects and sends nothing; the bridge writes one JSON object and "\n" and
// closes. Every key is always present:
//   connected, synced (bool); room_version (int or null); windows_synced,
//   pending_deltas, held_over_bound, ipc_errors, room_errors (int);
//   not_created (array of {"id","reason"}); last_error (string or null);
//   uptime_s (number); origin, room_url (string).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/result.hpp"
#include "protocol/socket_paths.hpp"

namespace wibwob::orchestrator {

// The largest status answer read from a bridge; a longer one is "bad status".
inline constexpr std::size_t max_bridge_status_bytes = 64 * 1024;

// /tmp/wibwob_2.sock -> /tmp/wibwob_2.bridge.sock (protocol/socket_paths.hpp).
using protocol::bridge_status_path;

struct NotCreated {
  std::string id;
  std::string reason;
  friend bool operator==(const NotCreated&, const NotCreated&) = default;
};

struct BridgeStatus {
  bool connected = false;
  bool synced = false;
  std::optional<std::int64_t> room_version;
  std::int64_t windows_synced = 0;
  std::int64_t pending_deltas = 0;
  std::vector<NotCreated> not_created;
  std::int64_t held_over_bound = 0;
  std::int64_t ipc_errors = 0;
  std::int64_t room_errors = 0;
  std::optional<std::string> last_error;
  double uptime_s = 0;
  std::string origin;
  std::string room_url;
};

// One status answer (the text up to its newline, or without one). Every key
// of the contract must be there with its type; unknown keys are ignored.
// Errors name the key: "missing key 'synced'", "'uptime_s' is not a number".
protocol::Result<BridgeStatus> parse_bridge_status(std::string_view text);

// What the probes found for one room.
struct RoomStatus {
  std::string room_id;
  std::int64_t instance_id = 0;
  bool multiplayer = false;
  std::string app_socket;
  bool app_up = false;         // the app's socket accepted a connection
  std::string app_error;       // why not, when !app_up
  std::string bridge_socket;   // multiplayer rooms
  enum class Bridge { none, not_running, bad_status, ok } bridge = Bridge::none;
  std::string bridge_error;    // not_running / bad_status: why
  std::optional<BridgeStatus> status;  // Bridge::ok
  std::string app_log, bridge_log;     // the rooms' log files, when known
};

// Healthy: the app is up and, for a multiplayer room, the bridge answered
// and is connected and synced.
bool healthy(const RoomStatus& r);

// "12s", "4m05s", "3h02m", "2d04h".
std::string format_uptime(double seconds);

// One line, no newline, e.g.
//   shared (instance 41): ok; app up; bridge connected, synced, room version 17,
//   3 windows, 0 pending, up 4m05s, last error: none
std::string status_line(const RoomStatus& r);

// One JSON document: an array with one object per room, keys in a fixed order
// (docs/orchestrator.md, "status"), then "\n".
std::string status_json(const std::vector<RoomStatus>& rooms);

}  // namespace wibwob::orchestrator
