#include "sim/acceptance.hpp"

#include <cstdio>
#include <random>

namespace wibwob::sim {

namespace {

std::string seconds(Ms t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(t.count()) / 1000.0);
  return buf;
}

// The conditions the criteria run under: the real app's tick, network
// latency, chat, faults.
SimConfig base_config(const AcceptanceConfig& a, std::uint64_t seed) {
  SimConfig c;
  c.seed = seed;
  c.instances = a.instances;
  c.active = Ms(10000);
  c.app_tick = Ms(20);
  c.faults_per_second = 0.3;
  c.id_reuse = a.id_reuse;
  return c;
}

struct Totals {
  Latency open, create;
  std::uint64_t duplicates = 0, reused_id_opens = 0;
  std::vector<std::string> failures;
};

CriterionResult verdict(std::string name, std::string what, Ms threshold, const Latency& l, std::uint64_t seeds,
                        std::string extra, std::vector<std::string> failures, bool ok) {
  CriterionResult r;
  r.name = name;
  r.pass = ok && failures.empty() && l.samples > 0 && l.worst <= threshold;
  r.line = name + " " + what + ": threshold " + seconds(threshold) + ", worst " + seconds(l.worst) + " over " +
           std::to_string(seeds) + " seeds (" + extra + "), " + (r.pass ? "pass" : "FAIL");
  r.failures = std::move(failures);
  return r;
}

// AC-1 and AC-2 share their runs: the simulator's random people and faults.
std::pair<CriterionResult, CriterionResult> windows_criteria(const AcceptanceConfig& a) {
  Totals t;
  for (std::uint64_t s = a.first_seed; s < a.first_seed + a.seeds; ++s) {
    const SimConfig c = base_config(a, s);
    const SimReport r = run_simulation(c);
    if (!r.converged) t.failures.push_back("seed " + std::to_string(s) + ": " + r.failure + "; replay: " + replay_command(c));
    t.open.samples += r.open_to_room.samples;
    t.open.excluded += r.open_to_room.excluded;
    t.open.worst = std::max(t.open.worst, r.open_to_room.worst);
    t.create.samples += r.remote_add_to_create.samples;
    t.create.excluded += r.remote_add_to_create.excluded;
    t.create.worst = std::max(t.create.worst, r.remote_add_to_create.worst);
    t.duplicates += r.duplicate_creates;
    t.reused_id_opens += r.opened_over_reused_id;
  }
  auto ac1 = verdict("AC-1", "a window opened on an instance reaches the room as a state_delta", Ms(1000), t.open,
                     a.seeds,
                     std::to_string(t.open.samples) + " windows; " + std::to_string(t.open.excluded) +
                         " excluded: a fault hit their instance or they were closed first; " +
                         std::to_string(t.reused_id_opens) +
                         " opened with a reused id the bridge still mapped, travelled as a move (the app's quirk)",
                     t.failures, true);
  auto ac2 = verdict("AC-2", "a remote add becomes exactly one create_window", Ms(1000), t.create, a.seeds,
                     std::to_string(t.create.samples) + " remote adds created, " + std::to_string(t.duplicates) +
                         " duplicates; " + std::to_string(t.create.excluded) + " excluded: a fault hit the instance",
                     t.failures, t.duplicates == 0);
  return {ac1, ac2};
}

CriterionResult rooms_criterion(const AcceptanceConfig& a) {
  Latency restart;
  std::vector<std::string> failures;
  for (std::uint64_t s = a.first_seed; s < a.first_seed + a.seeds; ++s) {
    const auto o = run_rooms_scenario(s);
    if (!o.failure.empty()) failures.push_back("seed " + std::to_string(s) + ": " + o.failure);
    else restart.add(o.restart);
  }
  return verdict("AC-3",
                 "room files -> plan -> supervisor: a bridge for the multiplayer room only; a crashed bridge is "
                 "restarted (app left alone)",
                 Ms(1000), restart, a.seeds, "worst is crash to the new bridge running", failures, true);
}

CriterionResult recovery_criterion(const AcceptanceConfig& a) {
  Latency rec;
  std::vector<std::string> failures;
  int drops = 0, restarts = 0;
  for (std::uint64_t s = a.first_seed; s < a.first_seed + a.seeds; ++s) {
    SimConfig c = base_config(a, s);
    std::mt19937_64 rng(s ^ 0x5eedac4ull);
    RecoveryProbe p;
    p.kind = s % 2 ? RecoveryProbe::Kind::drop : RecoveryProbe::Kind::room_restart;
    p.at = Ms(std::uniform_int_distribution<std::int64_t>(1000, 9000)(rng));
    p.server_down = Ms(std::uniform_int_distribution<std::int64_t>(100, 3000)(rng));
    ++(p.kind == RecoveryProbe::Kind::drop ? drops : restarts);
    c.recovery = p;
    const SimReport r = run_simulation(c);
    if (!r.converged) failures.push_back("seed " + std::to_string(s) + ": " + r.failure + "; replay: " + replay_command(c));
    if (r.recovered_after) rec.add(*r.recovered_after);
    else failures.push_back("seed " + std::to_string(s) + ": never in sync after the fault; replay: " + replay_command(c));
  }
  return verdict("AC-4", "after a drop or a room server restart, reconnected and in sync", Ms(5000), rec, a.seeds,
                 std::to_string(drops) + " drops, " + std::to_string(restarts) +
                     " server restarts down 0.1-3 s, measured from the server being back",
                 failures, true);
}

}  // namespace

std::vector<CriterionResult> run_acceptance(const AcceptanceConfig& config) {
  auto [ac1, ac2] = windows_criteria(config);
  return {ac1, ac2, rooms_criterion(config), recovery_criterion(config)};
}

}  // namespace wibwob::sim
