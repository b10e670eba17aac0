// Reconnect backoff (common/backoff.hpp).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "common/backoff.hpp"

using namespace std::chrono_literals;
using wibwob::Backoff;
using wibwob::BackoffConfig;
using wibwob::backoff_delay;

TEST(Backoff, DefaultsMeetTheIssue) {
  BackoffConfig c;
  EXPECT_LE(c.first, 250ms);
  EXPECT_LE(c.cap, 2000ms);
  // u = 1 is the largest delay of an attempt.
  EXPECT_EQ(backoff_delay(1, c, 1.0), c.first);
  EXPECT_EQ(backoff_delay(2, c, 1.0), 2 * c.first);
  EXPECT_EQ(backoff_delay(30, c, 1.0), c.cap);
  EXPECT_EQ(backoff_delay(1, c, 0.0), c.first / 2);
}

RC_GTEST_PROP(Backoff, DelaysStayWithinBounds, (std::uint32_t attempt, double u)) {
  BackoffConfig c;
  c.first = std::chrono::milliseconds(*rc::gen::inRange(1, 250));
  c.cap = std::chrono::milliseconds(*rc::gen::inRange(static_cast<int>(c.first.count()), 2001));
  c.jitter = *rc::gen::inRange(0, 101) / 100.0;
  const auto d = backoff_delay(attempt, c, u);
  RC_ASSERT(d >= 0ms);
  RC_ASSERT(d <= c.cap);
  if (attempt <= 1) RC_ASSERT(d <= c.first);
  // The random part never takes more than the jitter fraction away.
  const auto top = backoff_delay(attempt, c, 1.0);
  RC_ASSERT(d.count() + 1 >= static_cast<long>(static_cast<double>(top.count()) * (1.0 - c.jitter)));
}

RC_GTEST_PROP(Backoff, NonDecreasingInAttemptAtFixedDraw, (std::uint32_t attempt)) {
  BackoffConfig c;
  const double u = *rc::gen::inRange(0, 1001) / 1000.0;
  const auto a = std::min<std::uint32_t>(attempt, 1000);
  RC_ASSERT(backoff_delay(a, c, u) <= backoff_delay(a + 1, c, u));
}

TEST(Backoff, AttemptsGrowAndResetAfterAStableConnection) {
  Backoff b;
  EXPECT_EQ(b.on_failure(0ms, 1.0), 200ms);
  EXPECT_EQ(b.on_failure(300ms, 1.0), 400ms);
  b.on_connected(1000ms);
  // Dropped quickly: still backing off further.
  EXPECT_EQ(b.on_failure(1500ms, 1.0), 800ms);
  b.on_connected(3000ms);
  // Up for longer than stable_after: back to the first delay.
  EXPECT_EQ(b.on_failure(3000ms + b.config().stable_after, 1.0), 200ms);
  EXPECT_EQ(b.attempt(), 1u);
}
