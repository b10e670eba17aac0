// Shared test support: rapidcheck generators for the protocol types, a manual
// clock and a seeded RNG. Helpers only; no assertions or test logic here.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>

#include <rapidcheck.h>

#include "protocol/window.hpp"

namespace wibwob::test {

// A clock the test advances by hand.
class ManualClock {
 public:
  using duration = std::chrono::milliseconds;
  using time_point = std::chrono::time_point<ManualClock, duration>;
  time_point now() const { return now_; }
  void advance(duration d) { now_ += d; }
 private:
  time_point now_{};
};

// A seeded RNG so a failing test replays.
inline std::mt19937_64 seeded_rng(std::uint64_t seed = 20261127) { return std::mt19937_64(seed); }

// Generators. Ids come from a small alphabet so that generated layouts
// overlap often (updates, removes of existing ids, replacements).
rc::Gen<std::string> gen_window_id();
rc::Gen<std::string> gen_synced_type();     // a known, non-internal type
rc::Gen<protocol::Window> gen_window();      // valid synced window, extra = {}
rc::Gen<protocol::Window> gen_window_with_extra();
rc::Gen<protocol::Layout> gen_layout();      // 0..12 synced windows
rc::Gen<protocol::Delta> gen_delta();        // arbitrary well-formed delta
// JSON values of any shape (for hostile-input properties), depth-bounded.
rc::Gen<nlohmann::json> gen_json(int depth = 3);

}  // namespace wibwob::test
