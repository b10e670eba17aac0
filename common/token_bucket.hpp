// TokenBucket: a rate bound as a pure value (no clock: the caller passes the
// time). `rate` tokens per second refill a bucket of `burst` tokens; each
// allowed event takes one. A rate of 0 means unbounded.
#pragma once

#include <algorithm>
#include <cmath>

#include "common/time.hpp"

namespace wibwob {

class TokenBucket {
 public:
  TokenBucket(double rate_per_second, double burst)
      : rate_(std::max(0.0, rate_per_second)), burst_(std::max(1.0, burst)), tokens_(burst_) {}

  bool unbounded() const noexcept { return rate_ <= 0.0; }

  // Takes a token if one is available at `now`.
  bool try_take(Ms now) {
    if (unbounded()) return true;
    refill(now);
    if (tokens_ + kSlack < 1.0) return false;
    tokens_ = std::max(0.0, tokens_ - 1.0);
    return true;
  }

  // The earliest time at or after `now` when try_take() succeeds.
  Ms next_available(Ms now) const {
    if (unbounded()) return now;
    const double have = std::min(burst_, tokens_ + elapsed_s(now) * rate_);
    if (have + kSlack >= 1.0) return now;
    return now + Ms(static_cast<Ms::rep>(std::ceil((1.0 - have) / rate_ * 1000.0)));
  }

 private:
  double elapsed_s(Ms now) const { return now > last_ ? static_cast<double>((now - last_).count()) / 1000.0 : 0.0; }
  void refill(Ms now) {
    tokens_ = std::min(burst_, tokens_ + elapsed_s(now) * rate_);
    if (now > last_) last_ = now;
  }

  // Refill is floating point: a token due at next_available() must not be
  // missed by a rounding error.
  static constexpr double kSlack = 1e-9;
  double rate_;
  double burst_;
  double tokens_;
  Ms last_{0};
};

}  // namespace wibwob
