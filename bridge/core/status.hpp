// The bridge's status as one JSON object: what `--status-socket` answers and
// what `wibwob-bridge --status` and `wibwob-rooms status` show.
//
// Keys (always present, stable; docs/bridge.md "Status"):
//   connected, synced          the room link
//   room_version               the last version placed (null before a state_sync)
//   windows_synced             room windows the app shows as the room has them
//   pending_deltas, offline_deltas  own deltas sent, not yet placed; windows
//                              with changes made offline (folded, one each)
//   not_created                [{"id","reason"}] windows this app does not show
//   held_over_bound            windows held by --max-room-windows
//   ipc_errors, room_errors    failed IPC requests + bad replies; bad room
//                              messages + resyncs
//   last_error                 the last warning or error logged (null: none)
//   uptime_s, origin, room_url
//   mixed_room                 a member runs the earlier bridge (ids like "w3")
//   stats                      every EngineStats counter
// Pure.
#pragma once

#include <optional>
#include <string>

#include "bridge/core/sync_engine.hpp"

namespace wibwob::bridge {

struct StatusContext {
  Ms uptime{0};
  std::string room_url;
  std::optional<std::string> last_error;
};

protocol::Json status_json(const SyncEngine& engine, const StatusContext& ctx);

// The same status for a person, one "key: value" line each.
std::string describe_status(const protocol::Json& status);

}  // namespace wibwob::bridge
