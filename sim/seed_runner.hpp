// Runs many seeds of one configuration, on one thread or several, and hands
// the results back in seed order (wibwob-sim --jobs, docs/simulator.md).
// Each seed is its own Simulation with its own RNGs and cores: nothing is
// shared between seeds, so a seed's report, trace hash included, is the same
// whatever the number of threads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/simulator.hpp"

namespace wibwob::sim {

// One seed's outcome, with the phase lines it reported on the way (kept only
// when asked: they are printed with the seed, not as they happen, so that
// lines of seeds running side by side do not interleave).
struct SeedRun {
  SimReport report;
  std::vector<std::string> progress;
};

// The worker threads `jobs` asks for: 0 means one per core (at least 1);
// never more than there are seeds.
unsigned resolve_jobs(unsigned jobs, std::uint64_t seeds);

// Runs seeds [first, first + count) of `config` (its seed field is ignored)
// on resolve_jobs(jobs, count) threads. `done` is called on the calling
// thread once per seed, in seed order, as soon as that seed and every earlier
// one are done. Seeds are handed out in order and no thread runs more than a
// few seeds ahead of the one `done` waits for, so memory stays bounded. When
// `done` returns false, no later seed is handed to it and no new one starts
// (wibwob-sim --fail-fast); seeds already running finish and are dropped. An
// exception thrown by a seed's run is rethrown here after the threads stop.
void run_seeds(const SimConfig& config, std::uint64_t first, std::uint64_t count, unsigned jobs,
               bool keep_progress, const std::function<bool(SeedRun&&)>& done);

}  // namespace wibwob::sim
