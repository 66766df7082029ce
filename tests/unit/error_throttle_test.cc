// ErrorThrottle: threshold-based pausing of one partition (SPEC §3 Error
// threshold).
#include "sidecar/dispatch/error_throttle.h"

#include <chrono>
#include <cstdint>
#include <optional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kafka_sidecar {
namespace {

using ::testing::Optional;

constexpr MonoTime kT0 = MonoTime{} + std::chrono::hours(1);
MonoTime At(int64_t ms) { return kT0 + Millis(ms); }

// Plain numbers, so failures print readably.
std::optional<int64_t> Ms(std::optional<Millis> d) {
  if (!d) return std::nullopt;
  return d->count();
}
std::optional<int64_t> UntilMs(const ErrorThrottle& t) {
  if (!t.paused_until()) return std::nullopt;
  return std::chrono::duration_cast<Millis>(*t.paused_until() - kT0).count();
}

// 3 errors within 1 s pause for 500 ms; repeat pauses double at most twice.
ErrorThrottleOptions Options() {
  ErrorThrottleOptions o;
  o.threshold = 3;
  o.window = Millis(1000);
  o.pause = Millis(500);
  o.max_doublings = 2;
  return o;
}

// Pauses `t` at `at` (it must not be paused already) and returns the length.
std::optional<int64_t> Trip(ErrorThrottle& t, MonoTime at) { return Ms(t.RecordErrors(3, at)); }

TEST(ErrorThrottleTest, BelowTheThresholdNothingPauses) {
  ErrorThrottle t(Options());
  EXPECT_EQ(Ms(t.RecordErrors(1, At(0))), std::nullopt);
  EXPECT_EQ(Ms(t.RecordErrors(1, At(10))), std::nullopt);
  EXPECT_FALSE(t.paused(At(10)));
  EXPECT_EQ(UntilMs(t), std::nullopt);
  EXPECT_EQ(Ms(t.RecordErrors(0, At(20))), std::nullopt);  // no errors is no error
  EXPECT_FALSE(t.paused(At(20)));
}

TEST(ErrorThrottleTest, ThresholdWithinTheWindowPausesForThePauseLength) {
  ErrorThrottle t(Options());
  EXPECT_EQ(Ms(t.RecordErrors(1, At(0))), std::nullopt);
  EXPECT_EQ(Ms(t.RecordErrors(1, At(400))), std::nullopt);
  EXPECT_THAT(Ms(t.RecordErrors(1, At(999))), Optional(500));
  EXPECT_THAT(UntilMs(t), Optional(1499));
  EXPECT_TRUE(t.paused(At(999)));
  EXPECT_TRUE(t.paused(At(1498)));
  EXPECT_FALSE(t.paused(At(1499)));
  EXPECT_EQ(t.consecutive_pauses(), 0u);
}

TEST(ErrorThrottleTest, ManyErrorsAtOnceCount) {
  ErrorThrottle t(Options());
  EXPECT_THAT(Ms(t.RecordErrors(1000, At(0))), Optional(500));
  EXPECT_TRUE(t.paused(At(0)));
}

TEST(ErrorThrottleTest, ErrorsOlderThanTheWindowDoNotCount) {
  ErrorThrottle t(Options());
  EXPECT_EQ(Ms(t.RecordErrors(1, At(0))), std::nullopt);
  EXPECT_EQ(Ms(t.RecordErrors(1, At(500))), std::nullopt);
  // The first error is exactly one window old: it no longer counts.
  EXPECT_EQ(Ms(t.RecordErrors(1, At(1000))), std::nullopt);
  EXPECT_FALSE(t.paused(At(1000)));
  // 500, 1000 and 1001 are within one window.
  EXPECT_THAT(Ms(t.RecordErrors(1, At(1001))), Optional(500));
}

TEST(ErrorThrottleTest, ErrorsWhilePausedReturnNothingAndDoNotExtendThePause) {
  ErrorThrottle t(Options());
  ASSERT_THAT(Trip(t, At(0)), Optional(500));
  EXPECT_EQ(Ms(t.RecordErrors(100, At(100))), std::nullopt);
  EXPECT_EQ(Ms(t.RecordErrors(1, At(499))), std::nullopt);
  EXPECT_THAT(UntilMs(t), Optional(500));
  EXPECT_FALSE(t.paused(At(500)));
}

TEST(ErrorThrottleTest, ExpireEndsAPauseOnlyOnceItIsDue) {
  ErrorThrottle t(Options());
  EXPECT_FALSE(t.Expire(At(0)));  // nothing to end
  ASSERT_THAT(Trip(t, At(0)), Optional(500));
  EXPECT_FALSE(t.Expire(At(499)));
  EXPECT_TRUE(t.paused(At(499)));
  EXPECT_THAT(UntilMs(t), Optional(500));
  EXPECT_TRUE(t.Expire(At(500)));
  EXPECT_EQ(UntilMs(t), std::nullopt);
  EXPECT_FALSE(t.paused(At(500)));
  EXPECT_FALSE(t.Expire(At(501)));  // ended once
}

TEST(ErrorThrottleTest, APauseSoonAfterTheLastOneDoublesUpToMaxDoublings) {
  ErrorThrottle t(Options());
  ASSERT_THAT(Trip(t, At(0)), Optional(500));
  ASSERT_TRUE(t.Expire(At(500)));
  EXPECT_THAT(Trip(t, At(600)), Optional(1000));
  EXPECT_EQ(t.consecutive_pauses(), 1u);
  ASSERT_TRUE(t.Expire(At(1600)));
  EXPECT_THAT(Trip(t, At(1700)), Optional(2000));
  EXPECT_EQ(t.consecutive_pauses(), 2u);
  ASSERT_TRUE(t.Expire(At(3700)));
  // max_doublings = 2: no longer than pause × 4.
  EXPECT_THAT(Trip(t, At(3800)), Optional(2000));
  EXPECT_EQ(t.consecutive_pauses(), 2u);
  EXPECT_THAT(UntilMs(t), Optional(5800));
}

TEST(ErrorThrottleTest, AQuietWindowResetsTheBackoff) {
  ErrorThrottle t(Options());
  ASSERT_THAT(Trip(t, At(0)), Optional(500));
  ASSERT_TRUE(t.Expire(At(500)));
  ASSERT_THAT(Trip(t, At(600)), Optional(1000));
  ASSERT_TRUE(t.Expire(At(1600)));
  // A whole window (1 s) after the last pause ended: a fresh start.
  EXPECT_THAT(Trip(t, At(2600)), Optional(500));
  EXPECT_EQ(t.consecutive_pauses(), 0u);
}

TEST(ErrorThrottleTest, ClearEndsAPauseAndAPauseSoonAfterStillBacksOff) {
  ErrorThrottle t(Options());
  ASSERT_THAT(Trip(t, At(0)), Optional(500));
  t.Clear(At(100));
  EXPECT_FALSE(t.paused(At(100)));
  EXPECT_EQ(UntilMs(t), std::nullopt);
  EXPECT_FALSE(t.Expire(At(500)));  // nothing left to expire
  EXPECT_THAT(Trip(t, At(200)), Optional(1000));
}

TEST(ErrorThrottleTest, ClearForgetsErrorsCountedSoFar) {
  ErrorThrottle t(Options());
  EXPECT_EQ(Ms(t.RecordErrors(2, At(0))), std::nullopt);
  t.Clear(At(10));
  EXPECT_EQ(Ms(t.RecordErrors(1, At(20))), std::nullopt);
  EXPECT_FALSE(t.paused(At(20)));
}

TEST(ErrorThrottleTest, ThresholdZeroNeverPauses) {
  ErrorThrottleOptions o = Options();
  o.threshold = 0;
  ErrorThrottle t(o);
  EXPECT_EQ(Ms(t.RecordErrors(1, At(0))), std::nullopt);
  EXPECT_EQ(Ms(t.RecordErrors(1000000, At(1))), std::nullopt);
  EXPECT_FALSE(t.paused(At(1)));
}

TEST(ErrorThrottleTest, ThresholdOnePausesOnTheFirstError) {
  ErrorThrottleOptions o = Options();
  o.threshold = 1;
  ErrorThrottle t(o);
  EXPECT_THAT(Ms(t.RecordErrors(1, At(0))), Optional(500));
}

// The dispatcher checks paused(now), which turns false at paused_until, and
// calls Expire only from its timer pass; errors handled in the same loop
// before that pass reach RecordErrors first. The pause that just ran out is
// still the previous pause, so the new one must back off.
TEST(ErrorThrottleTest, APauseThatRanOutWithoutExpireStillCountsAsTheLastPause) {
  ErrorThrottle t(Options());
  ASSERT_THAT(Trip(t, At(0)), Optional(500));
  EXPECT_THAT(Trip(t, At(600)), Optional(1000));
  EXPECT_EQ(t.consecutive_pauses(), 1u);
}

}  // namespace
}  // namespace kafka_sidecar
