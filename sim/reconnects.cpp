// Issue 14 in the simulator: long outages with busy people, what bridges
// send when they (re)join the room, and the write oracle's hooks
// (sim/oracle.hpp; docs/simulator.md, "After a reconnect").
#include <algorithm>

#include "sim/simulation.hpp"

namespace wibwob::sim::detail {

namespace ipc = protocol::ipc;

// `long_outages` outages per seed, each starting at a random time such that
// it ends within the active phase when it can.
void Simulation::schedule_long_outages() {
  if (cfg_.recovery) return;
  for (int k = 0; k < cfg_.long_outages; ++k) {
    const Ms latest = std::max(Ms(0), act_until_ - cfg_.long_outage);
    at(uniform(Ms(0), latest), [this] { begin_long_outage(*instances_[static_cast<std::size_t>(pick(cfg_.instances))]); });
  }
}

void Simulation::begin_long_outage(Instance& inst) {
  if (cut_off(inst)) return;  // already cut off
  ++report_.faults;
  ++report_.reconnects.long_outages;
  say("i" + std::to_string(inst.index) + " fault: long outage: the room is unreachable from here for " +
      std::to_string(cfg_.long_outage.count()) + " ms; a busy person keeps working");
  disturb(inst);
  inst.cut_off_until = now_ + cfg_.long_outage;
  close_conn(inst, true);
  busy_person_acts(inst);
}

// The busy person on a cut-off instance: drags, moves and resizes windows,
// sometimes opens or closes one, until the outage ends.
void Simulation::busy_person_acts(Instance& inst) {
  const double mean_ms = 1000.0 / std::max(cfg_.busy_actions_per_second, 0.001);
  const Ms t = now_ + Ms(static_cast<std::int64_t>(std::exponential_distribution<double>(1.0 / mean_ms)(rng_)) + 1);
  at(t, [this, &inst] {
    if (!cut_off(inst)) return;  // the outage is over (or healed)
    if (inst.app_up) {
      ++report_.actions;
      last_action_at_ = now_;
      const auto ids = window_ids(*inst.app);
      const double r = unit();
      if (ids.empty() || r >= 0.95) {
        auto s = random_spec();
        trace("i" + std::to_string(inst.index) + " busy person opens " + s.type);
        (void)inst.app->open(s);
        deliver_events(inst, inst.engine_gen);
      } else {
        const std::string& target = ids[static_cast<std::size_t>(pick(static_cast<int>(ids.size())))];
        act_on_window(inst, r < 0.5 ? 10 : r < 0.75 ? 3 : r < 0.9 ? 4 : 5, target);
      }
    }
    busy_person_acts(inst);
  });
}

void Simulation::end_long_outages() {
  for (auto& inst : instances_) inst->cut_off_until = Ms(-1);
}

// --- the write oracle's hooks ----------------------------------------------------------

void Simulation::oracle_sent(Instance& inst, const std::string& text) {
  oracle_.on_send(inst.index, text, inst.engine->confirmed_version());
}

void Simulation::oracle_sequenced(Instance& inst, const std::string& text, std::int64_t version_before) {
  if (room_state().version != version_before + 1) return;  // not applied (no delta, or threw part way)
  oracle_.on_sequenced(inst.index, text, version_before + 1);
}

// --- what (re)joins send ---------------------------------------------------------------------

// The effects of a bridge's answer to a state_sync: the state_deltas in it
// (re-sent and offline changes, a removal of windows that came back, an
// adoption's push).
void Simulation::note_sync(const bridge::Effects& fx) {
  std::uint64_t deltas = 0;
  for (const auto& e : fx)
    if (auto* s = std::get_if<bridge::effect::SendRoom>(&e); s && s->text.find("\"state_delta\"") != std::string::npos)
      ++deltas;
  auto& r = report_.reconnects;
  ++r.syncs;
  r.sync_deltas += deltas;
  r.sync_deltas_peak = std::max(r.sync_deltas_peak, deltas);
}

// A chat line the recipient's bridge dropped over its rate bound: after a
// long outage, the lines typed there arrive at once.
void Simulation::note_chat_over_rate(Instance& inst, const std::string& text) {
  auto msg = ipc::parse_json(text);
  if (msg && msg->is_object() && (*msg)["text"].is_string()) chat_.dropped_over_rate(inst.index, (*msg)["text"].get<std::string>());
}

void Simulation::add_reconnect_stats(const bridge::EngineStats& s) {
  auto& r = report_.reconnects;
  r.offline_changes += s.offline_changes;
  r.offline_peak = std::max(r.offline_peak, s.offline_peak);
  r.resent_deltas += s.resent_deltas;
  r.resent_entries += s.resent_entries;
  r.resent_entries_peak = std::max(r.resent_entries_peak, s.resent_entries_peak);
  r.unproven_windows += s.unproven_windows;
  r.unproven_dropped += s.unproven_dropped;
  r.came_back += s.came_back;
}

void Simulation::finish_reconnect_report() {
  for (auto& inst : instances_) add_reconnect_stats(inst->engine->stats());
  report_.reconnects.oracle_writes = oracle_.writes();
  report_.reconnects.oracle_relanded = oracle_.relanded();
  report_.reconnects.oracle_never_landed = oracle_.never_landed();
  report_.reconnects.oracle_lost_with_bridge = oracle_.lost_with_bridge();
}

}  // namespace wibwob::sim::detail
