// Reconnect backoff as a pure function, plus the small bookkeeping that
// decides which attempt we are on.
//
// delay(attempt, config, u) is exponential with jitter:
//   base  = min(cap, first * multiplier^(attempt-1))
//   delay = base * (1 - jitter + jitter * u)        u in [0, 1) from the caller's RNG
// so every delay lies in [base * (1 - jitter), base], the first retry is at
// most `first` and no retry waits longer than `cap`. The caller injects u
// from a seeded RNG, which keeps the simulator deterministic.
#pragma once

#include <chrono>
#include <cstdint>

namespace wibwob {

struct BackoffConfig {
  std::chrono::milliseconds first{200};   // first retry at most this (<= 250 ms)
  std::chrono::milliseconds cap{2000};    // no retry waits longer (<= 2 s)
  double multiplier = 2.0;
  double jitter = 0.5;                    // fraction of the delay that is random
  // A connection that stayed up this long resets the attempt count.
  std::chrono::milliseconds stable_after{5000};
};

// attempt >= 1 (0 is treated as 1). u is clamped to [0, 1].
std::chrono::milliseconds backoff_delay(std::uint32_t attempt, const BackoffConfig& config, double u);

// Tracks consecutive failed attempts. Times are plain durations on whatever
// clock the caller uses (steady clock in the shell, virtual time in the sim).
class Backoff {
 public:
  explicit Backoff(BackoffConfig config = {}) : config_(config) {}

  // A connection attempt failed or an open connection was lost: the delay
  // before the next attempt. `now` is when it happened.
  std::chrono::milliseconds on_failure(std::chrono::milliseconds now, double u);
  // The connection is open (handshake done).
  void on_connected(std::chrono::milliseconds now) { connected_at_ = now; connected_ = true; }

  std::uint32_t attempt() const noexcept { return attempt_; }
  const BackoffConfig& config() const noexcept { return config_; }

 private:
  BackoffConfig config_;
  std::uint32_t attempt_ = 0;
  bool connected_ = false;
  std::chrono::milliseconds connected_at_{0};
};

}  // namespace wibwob
