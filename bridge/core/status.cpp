#include "bridge/core/status.hpp"

#include <sstream>

namespace wibwob::bridge {

using protocol::Json;

namespace {

Json stats_json(const EngineStats& s) {
  return Json{{"polls", s.polls},
              {"deltas_sent", s.deltas_sent},
              {"deltas_received", s.deltas_received},
              {"ipc_commands", s.ipc_commands},
              {"ipc_failures", s.ipc_failures},
              {"bad_ipc_replies", s.bad_ipc_replies},
              {"bad_room_messages", s.bad_room_messages},
              {"uncreatable", s.uncreatable},
              {"resyncs", s.resyncs},
              {"connects", s.connects},
              {"app_restarts", s.app_restarts},
              {"chat_in", s.chat_in},
              {"chat_out", s.chat_out},
              {"chat_dropped", s.chat_dropped},
              {"chat_over_rate", s.chat_over_rate},
              {"over_window_bound", s.over_window_bound},
              {"presence_skipped", s.presence_skipped},
              {"ipc_throttled", s.ipc_throttled},
              {"offline_changes", s.offline_changes},
              {"resent_deltas", s.resent_deltas},
              {"resent_entries", s.resent_entries},
              {"unproven_dropped", s.unproven_dropped},
              {"came_back", s.came_back}};
}

std::size_t windows_synced(const SyncEngine& e) {
  const auto& target = e.target();
  const auto& shown = e.believed_app_layout();
  std::size_t n = 0;
  for (const auto& [id, w] : target)
    if (auto it = shown.find(id); it != shown.end() && it->second.same_synced(w)) ++n;
  return n;
}

}  // namespace

Json status_json(const SyncEngine& e, const StatusContext& ctx) {
  const auto& s = e.stats();
  Json not_created = Json::array();
  for (const auto& [id, why] : e.not_created()) not_created.push_back(Json{{"id", id}, {"reason", why}});
  const auto version = e.confirmed_version();
  return Json{{"connected", e.room_connected()},
              {"synced", e.room_synced()},
              {"room_version", version ? Json(*version) : Json(nullptr)},
              {"windows_synced", windows_synced(e)},
              {"pending_deltas", e.unplaced_deltas()},
              {"offline_deltas", e.offline_deltas()},
              {"not_created", std::move(not_created)},
              {"held_over_bound", e.held_over_bound()},
              {"ipc_errors", s.ipc_failures + s.bad_ipc_replies},
              {"room_errors", s.bad_room_messages + s.resyncs},
              {"last_error", ctx.last_error ? Json(*ctx.last_error) : Json(nullptr)},
              {"uptime_s", static_cast<double>(ctx.uptime.count()) / 1000.0},
              {"origin", e.origin()},
              {"room_url", ctx.room_url},
              {"mixed_room", e.mixed_room()},
              {"stats", stats_json(s)}};
}

std::string describe_status(const Json& st) {
  std::ostringstream o;
  auto get = [&](const char* k) { return st.contains(k) ? st.at(k).dump() : std::string("?"); };
  o << "room:            " << st.value("room_url", "?") << "\n";
  o << "connected:       " << get("connected") << ", synced: " << get("synced") << ", version " << get("room_version")
    << "\n";
  o << "windows synced:  " << get("windows_synced") << "\n";
  o << "local changes:   " << get("pending_deltas") << " sent, not yet placed; " << get("offline_deltas")
    << " window(s) changed offline\n";
  o << "held by bound:   " << get("held_over_bound") << "\n";
  o << "errors:          IPC " << get("ipc_errors") << ", room " << get("room_errors") << "\n";
  o << "last error:      " << (st.contains("last_error") && st["last_error"].is_string() ? st["last_error"].get<std::string>() : "none")
    << "\n";
  o << "uptime:          " << get("uptime_s") << " s (origin " << st.value("origin", "?") << ")\n";
  if (st.contains("not_created") && st["not_created"].is_array())
    for (const auto& n : st["not_created"])
      o << "not shown here:  " << n.value("id", "?") << ": " << n.value("reason", "?") << "\n";
  return o.str();
}

}  // namespace wibwob::bridge
