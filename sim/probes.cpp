// Measurements for the acceptance criteria (sim/acceptance.hpp): how long a
// window opened on an instance takes to reach the room (AC-1), how a remote
// add becomes a create_window (AC-2), and how long the room takes to be in
// sync again after one fault (AC-4). A probe whose instance a fault touched
// meanwhile is excluded (counted): a fault delays by design.
#include <algorithm>

#include "sim/simulation.hpp"

namespace wibwob::sim::detail {

namespace {

std::vector<std::string> added_ids(const protocol::Json& msg) {
  std::vector<std::string> ids;
  const auto d = msg.find("delta");
  if (d == msg.end() || !d->is_object() || !d->contains("add") || !(*d)["add"].is_array()) return ids;
  for (const auto& w : (*d)["add"])
    if (w.is_object() && w.contains("id") && w["id"].is_string()) ids.push_back(w["id"].get<std::string>());
  return ids;
}

}  // namespace

// True when the bridge still maps `w`'s id to a window of the same type: the
// next get_state cannot tell the new window from the old one moved.
bool Simulation::opened_over_mapped_id(const Instance& inst, const fakewibwob::DesktopWindow& w) const {
  const auto rid = inst.engine->room_id_of(w.id);
  if (!rid) return false;
  const auto& believed = inst.engine->believed_app_layout();
  const auto old = believed.find(*rid);
  return old != believed.end() && old->second.type == w.type;
}

void Simulation::probe_opened(Instance& inst, const std::string& local_id) {
  const auto* w = inst.app->desktop().find(local_id);
  if (!w || protocol::is_internal_window_type(w->type)) return;
  if (!inst.conn || !inst.engine->room_synced()) return;  // not connected: it waits for the reconnect
  if (opened_over_mapped_id(inst, *w)) {
    // The app reused the id of a same-type window closed since the bridge's
    // last poll (shared/spec/wibwob-ipc.md, "Window ids"): through the IPC
    // this is a move of the old window, so it reaches the room as an update
    // under the old room id, never as an add. Counted, not probed.
    ++report_.opened_over_reused_id;
    trace("i" + std::to_string(inst.index) + " " + local_id + " opened with the id of a same-type window the bridge still maps");
    return;
  }
  open_probes_[static_cast<std::size_t>(inst.index)].push_back(OpenProbe{local_id, now_});
}

void Simulation::probe_delta_at_server(Instance& inst, const protocol::Json& msg) {
  const auto ids = added_ids(msg);
  auto& probes = open_probes_[static_cast<std::size_t>(inst.index)];
  std::erase_if(probes, [&](const OpenProbe& p) {
    const auto rid = inst.engine->room_id_of(p.local_id);
    if (!rid || std::find(ids.begin(), ids.end(), *rid) == ids.end()) return false;
    if (inst.disturbed_at >= p.at) {
      ++report_.open_to_room.excluded;
    } else {
      report_.open_to_room.add(now_ - p.at);
    }
    return true;
  });
}

void Simulation::probe_delta_at_bridge(Instance& inst, const protocol::Json& msg) {
  for (const auto& rid : added_ids(msg)) remote_adds_.emplace(std::make_pair(inst.index, rid), now_);
}

void Simulation::probe_created(Instance& inst, const std::string& local_id) {
  const auto rid = inst.engine->room_id_of(local_id);
  if (!rid) return;
  const auto key = std::make_pair(inst.index, *rid);
  const auto* made = inst.app->desktop().find(local_id);
  if (auto prev = created_.find(key); prev != created_.end() && prev->second.app_gen == inst.app_gen &&
                                      prev->second.closes == inst.closes[prev->second.local_id]) {
    const auto* old = inst.app->desktop().find(prev->second.local_id);
    if (old && made && old != made && old->type == made->type) {
      // Also across a bridge restart (sync.md requirement 8): the new run
      // resumes the old run's mapping (bridge/core/handover.hpp).
      const bool after_restart = prev->second.engine_gen != inst.engine_gen;
      ++report_.duplicate_creates;
      if (duplicate_.empty())
        duplicate_ = "instance " + std::to_string(inst.index) + "'s bridge created " + local_id + " for room window " +
                     *rid + ", which its app still shows as " + prev->second.local_id +
                     (after_restart ? " (created by the bridge run before a restart)" : "") +
                     (inst.restart_detected.empty() ? std::string()
                                                    : " (its last app restart detection: " + inst.restart_detected + ")");
      trace("i" + std::to_string(inst.index) + " DUPLICATE: " + local_id + " created for " + *rid + ", which " +
            prev->second.local_id + " still shows");
    }
  }
  // A window a person closed before the reply arrived is not shown: it
  // cannot be duplicated, and its id may come back for another window.
  if (made) created_[key] = Created{inst.app_gen, inst.engine_gen, inst.closes[local_id], local_id};
  if (auto a = remote_adds_.find(key); a != remote_adds_.end()) {
    if (inst.disturbed_at >= a->second) {
      ++report_.remote_add_to_create.excluded;
    } else {
      report_.remote_add_to_create.add(now_ - a->second);
      trace("i" + std::to_string(inst.index) + " created " + *rid + " " + std::to_string((now_ - a->second).count()) +
            " ms after its add arrived");
    }
    remote_adds_.erase(a);
  }
}

void Simulation::note_closes(Instance& inst, const std::string& name, const std::string& id) {
  auto closed = [&](const std::string& local_id) {
    ++inst.closes[local_id];
    // A window closed before its add was seen at the room is no AC-1 sample:
    // its id may come back for another window (the app's id reuse).
    const auto n = std::erase_if(open_probes_[static_cast<std::size_t>(inst.index)],
                                 [&](const OpenProbe& p) { return p.local_id == local_id; });
    report_.open_to_room.excluded += n;
  };
  if (name == "close_window") {
    closed(id);
  } else if (name == "close_all" || name == "import_state" || name == "open_workspace") {
    for (const auto& w : inst.app->desktop().windows()) closed(w.id);
  }
}

// After the run: a window still waiting must have been closed or hit by a
// fault; else it never reached the room.
void Simulation::close_probes() {
  for (auto& inst : instances_) {
    for (const auto& p : open_probes_[static_cast<std::size_t>(inst->index)]) {
      if (inst->disturbed_at >= p.at || !inst->app->desktop().find(p.local_id)) {
        ++report_.open_to_room.excluded;
        continue;
      }
      fail("window " + p.local_id + " opened on instance " + std::to_string(inst->index) + " at " +
           std::to_string(p.at.count()) + " ms never reached the room as an add");
    }
    open_probes_[static_cast<std::size_t>(inst->index)].clear();
  }
}

// AC-4: one fault now, people have stopped; wait until everything is in sync.
void Simulation::measure_recovery() {
  const RecoveryProbe& r = *cfg_.recovery;
  ++report_.faults;
  Ms from = now_;
  if (r.kind == RecoveryProbe::Kind::drop) {
    Instance& inst = *instances_[static_cast<std::size_t>(pick(cfg_.instances))];
    say("recovery probe: i" + std::to_string(inst.index) + "'s room connection dropped");
    close_conn(inst, true);
  } else {
    say("recovery probe: room server restarts, down for " + std::to_string(r.server_down.count()) + " ms");
    restart_room_server(r.server_down);
    from = now_ + r.server_down;
  }
  const Ms limit = from + cfg_.settle_limit;
  while (now_ < limit) {
    run_until(now_ + Ms(10));
    if (now_ >= from && in_sync()) {
      report_.recovered_after = now_ - from;
      say("recovery probe: in sync " + std::to_string(report_.recovered_after->count()) + " ms later");
      return;
    }
  }
}

}  // namespace wibwob::sim::detail
