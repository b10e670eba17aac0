#include "common/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace wibwob {

std::chrono::milliseconds backoff_delay(std::uint32_t attempt, const BackoffConfig& c, double u) {
  attempt = std::max<std::uint32_t>(attempt, 1);
  u = std::isfinite(u) ? std::clamp(u, 0.0, 1.0) : 0.0;
  const double first = static_cast<double>(c.first.count());
  const double cap = static_cast<double>(std::max(c.cap, c.first).count());
  const double mult = std::max(1.0, c.multiplier);
  const double jitter = std::clamp(c.jitter, 0.0, 1.0);
  // Exponent bounded so pow() cannot overflow for absurd attempt counts.
  const double base = std::min(cap, first * std::pow(mult, std::min<double>(attempt - 1, 64)));
  const double d = base * (1.0 - jitter + jitter * u);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::floor(d)));
}

std::chrono::milliseconds Backoff::on_failure(std::chrono::milliseconds now, double u) {
  if (connected_ && now - connected_at_ >= config_.stable_after) attempt_ = 0;
  connected_ = false;
  ++attempt_;
  return backoff_delay(attempt_, config_, u);
}

}  // namespace wibwob
