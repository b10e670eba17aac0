// Quiescence and the checks of shared/spec/sync.md after a run, plus chat's
// presence check.
#include <sstream>

#include "sim/simulation.hpp"

namespace wibwob::sim::detail {

bool Simulation::quiescent() const {
  if (room_down_) return false;
  // A person's change fires no event: only a poll after it can see it.
  if (now_ < last_action_at_ + 2 * cfg_.poll_interval + cfg_.ipc_latency_max * 2 + cfg_.app_tick * 4) return false;
  for (const auto& inst : instances_) {
    if (!inst->app_up || !inst->conn || !inst->engine->room_synced() || !inst->engine->idle()) return false;
    if (inst->app->open_dialogs() || !inst->app->pending_chat().empty()) return false;
    if (inst->inflight) return false;  // nothing in flight except timers
  }
  return chat_.settled();
}

std::string Simulation::why_busy() const {
  std::ostringstream s;
  for (const auto& inst : instances_) {
    s << "i" << inst->index << "{app_up=" << inst->app_up << " conn=" << inst->conn.has_value()
      << " synced=" << inst->engine->room_synced() << " idle=" << inst->engine->idle()
      << " pending=" << inst->engine->pending_deltas() << " inflight=" << inst->inflight
      << " chat_queue=" << inst->app->pending_chat().size() << "} ";
  }
  if (!chat_.settled()) s << "chat: " << chat_.unsettled();
  return s.str();
}

// Empty when every instance shows exactly the server's synced windows, each
// local one mapped to its own room id; else what differs first.
std::string Simulation::divergence() const {
  const protocol::Layout server = room_view();
  for (const auto& inst : instances_) {
    const std::string who = "instance " + std::to_string(inst->index);
    protocol::Layout shown;
    for (const auto& w : inst->app->desktop().windows()) {
      if (protocol::is_internal_window_type(w.type)) continue;
      auto rid = inst->engine->room_id_of(w.id);
      if (!rid) return who + ": local window " + w.id + " (" + w.type + ") is not mapped to the room";
      if (shown.count(*rid)) return who + ": two local windows map to " + *rid;
      protocol::Window pw;
      pw.id = *rid;
      pw.type = w.type;
      pw.x = w.bounds.x;
      pw.y = w.bounds.y;
      pw.w = w.bounds.w;
      pw.h = w.bounds.h;
      const auto* t = protocol::find_window_type(w.type);
      if (t && t->needs_path) pw.path = w.path;
      shown[*rid] = pw;
    }
    for (const auto& [id, w] : server) {
      auto it = shown.find(id);
      if (it == shown.end()) return who + " lacks room window " + id + " (" + w.type + ")";
      if (!it->second.same_synced(w))
        return who + " shows " + id + " as " + protocol::to_json(it->second).dump() + ", the room has " +
               protocol::to_json(w).dump();
    }
    for (const auto& [id, w] : shown)
      if (!server.count(id)) return who + " shows " + id + " (" + w.type + "), which the room does not have";
  }
  return {};
}

// Empty when every app's presence list names exactly the room's connections,
// its own marked "(me)".
std::string Simulation::presence_problem() {
  if (!cfg_.chat) return {};
  std::set<std::string> room_conns;
  for (auto s : room_.sockets(kRoom))
    if (const auto* info = room_.socket(s)) room_conns.insert(info->conn);
  for (const auto& inst : instances_) {
    std::set<std::string> shown;
    const auto& list = inst->app->presence();
    for (const auto& p : list) {
      std::string id = p.is_object() && p.contains("id") && p["id"].is_string() ? p["id"].get<std::string>() : "?";
      const std::string me = " (me)";
      if (id.size() > me.size() && id.compare(id.size() - me.size(), me.size(), me) == 0) {
        id.resize(id.size() - me.size());
        if (id != inst->conn.value_or("")) return "instance " + std::to_string(inst->index) + "'s presence marks " + id + " as itself";
      }
      shown.insert(id);
    }
    if (shown != room_conns)
      return "instance " + std::to_string(inst->index) + "'s presence list " + list.dump() + " is not the room's " +
             std::to_string(room_conns.size()) + " connection(s)";
    ++report_.presence_checked;
  }
  return {};
}

protocol::Layout Simulation::room_view() const {
  protocol::Layout out;
  for (const auto& [k, raw] : room_state().windows) {
    auto w = protocol::normalise_window(raw);
    if (w && !protocol::is_internal_window_type(w->type)) out[k] = *w;
  }
  return out;
}

const protocol::RoomState& Simulation::room_state() const {
  static const protocol::RoomState empty;
  const auto* st = room_.state(kRoom);
  return st ? *st : empty;
}

void Simulation::check_quiet() {
  std::uint64_t before = 0;
  for (const auto& inst : instances_) before += inst->engine->stats().deltas_sent;
  run_until(now_ + 2 * cfg_.poll_interval + Ms(50));
  std::uint64_t after = 0;
  for (const auto& inst : instances_) after += inst->engine->stats().deltas_sent;
  if (after != before) fail("the room is not quiet: " + std::to_string(after - before) + " state_delta after convergence");
}

// Every instance reconnected and showing the room's layout, nothing pending.
bool Simulation::in_sync() const {
  if (room_down_) return false;
  for (const auto& inst : instances_)
    if (!inst->app_up || !inst->conn || !inst->engine->room_synced() || inst->engine->pending_deltas()) return false;
  return divergence().empty();
}

}  // namespace wibwob::sim::detail
