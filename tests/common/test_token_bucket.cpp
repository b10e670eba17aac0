// TokenBucket (common/token_bucket.hpp): bursts, refill, the time the next
// token is due, and the unbounded setting.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "common/token_bucket.hpp"

using wibwob::Ms;
using wibwob::TokenBucket;

TEST(TokenBucket, ABurstThenTheRate) {
  TokenBucket b(10, 3);  // 10 per second, bursts of 3
  EXPECT_TRUE(b.try_take(Ms(0)));
  EXPECT_TRUE(b.try_take(Ms(0)));
  EXPECT_TRUE(b.try_take(Ms(0)));
  EXPECT_FALSE(b.try_take(Ms(0)));
  EXPECT_EQ(b.next_available(Ms(0)), Ms(100));
  EXPECT_FALSE(b.try_take(Ms(99)));
  EXPECT_TRUE(b.try_take(Ms(100)));
  EXPECT_FALSE(b.try_take(Ms(100)));
  // A long pause refills at most the burst.
  EXPECT_TRUE(b.try_take(Ms(10000)));
  EXPECT_TRUE(b.try_take(Ms(10000)));
  EXPECT_TRUE(b.try_take(Ms(10000)));
  EXPECT_FALSE(b.try_take(Ms(10000)));
}

TEST(TokenBucket, ZeroRateIsUnbounded) {
  TokenBucket b(0, 1);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(b.try_take(Ms(0)));
  EXPECT_EQ(b.next_available(Ms(5)), Ms(5));
}

RC_GTEST_PROP(TokenBucket, NeverMoreThanBurstPlusRateTimesTime, (unsigned rate, unsigned burst, unsigned span_ms)) {
  const double r = 1 + rate % 100, bu = 1 + burst % 20;
  const auto span = static_cast<Ms::rep>(span_ms % 5000);
  TokenBucket b(r, bu);
  int taken = 0;
  for (Ms::rep t = 0; t <= span; t += 7)
    while (b.try_take(Ms(t))) ++taken;
  RC_ASSERT(taken <= static_cast<int>(bu + r * static_cast<double>(span) / 1000.0) + 1);
  // and next_available says when a token is back
  const Ms when = b.next_available(Ms(span));
  RC_ASSERT(b.try_take(when));
}
