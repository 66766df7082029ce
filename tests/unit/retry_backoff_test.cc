// RetryBackoff: how long a retried message waits (SPEC §3 Retries).
#include "sidecar/dispatch/retry_backoff.h"

#include <cstdint>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kafka_sidecar {
namespace {

using ::testing::Return;
using ::testing::StrictMock;

class MockRandom : public Random {
 public:
  MOCK_METHOD(double, Uniform, (), (override));
};

constexpr uint32_t kNoRetryAfter = 0;

TEST(RetryBackoffTest, RetryAfterWinsExactlyAndDrawsNoJitter) {
  StrictMock<MockRandom> random;  // any Uniform() call fails the test
  const RetryBackoff backoff(Millis(100), Millis(1000), &random);
  EXPECT_EQ(backoff.Delay(1, 250).count(), 250);
  EXPECT_EQ(backoff.Delay(1, 1).count(), 1);
  // Not the exponential value for this retry (400 ms) either.
  EXPECT_EQ(backoff.Delay(3, 7).count(), 7);
}

TEST(RetryBackoffTest, RetryAfterIsNotCappedByTheBackoffMaximum) {
  StrictMock<MockRandom> random;
  const RetryBackoff backoff(Millis(100), Millis(1000), &random);
  EXPECT_EQ(backoff.Delay(1, 5000).count(), 5000);
  EXPECT_EQ(backoff.Delay(1, std::numeric_limits<uint32_t>::max()).count(),
            int64_t{std::numeric_limits<uint32_t>::max()});
}

TEST(RetryBackoffTest, ExponentialFromTheBase) {
  StrictMock<MockRandom> random;
  EXPECT_CALL(random, Uniform()).Times(5).WillRepeatedly(Return(0.5));  // jitter × 1.0
  const RetryBackoff backoff(Millis(100), Millis(100000), &random);
  EXPECT_EQ(backoff.Delay(1, kNoRetryAfter).count(), 100);
  EXPECT_EQ(backoff.Delay(2, kNoRetryAfter).count(), 200);
  EXPECT_EQ(backoff.Delay(3, kNoRetryAfter).count(), 400);
  EXPECT_EQ(backoff.Delay(4, kNoRetryAfter).count(), 800);
  EXPECT_EQ(backoff.Delay(10, kNoRetryAfter).count(), 51200);
}

TEST(RetryBackoffTest, CappedAtTheMaximum) {
  StrictMock<MockRandom> random;
  EXPECT_CALL(random, Uniform()).Times(4).WillRepeatedly(Return(0.5));
  const RetryBackoff backoff(Millis(100), Millis(1000), &random);
  EXPECT_EQ(backoff.Delay(4, kNoRetryAfter).count(), 800);
  EXPECT_EQ(backoff.Delay(5, kNoRetryAfter).count(), 1000);  // 1600 capped
  EXPECT_EQ(backoff.Delay(6, kNoRetryAfter).count(), 1000);
  EXPECT_EQ(backoff.Delay(20, kNoRetryAfter).count(), 1000);
}

TEST(RetryBackoffTest, JitterSpansEightyToHundredTwentyPercent) {
  StrictMock<MockRandom> random;
  EXPECT_CALL(random, Uniform())
      .WillOnce(Return(0.0))
      .WillOnce(Return(0.25))
      .WillOnce(Return(0.75))
      .WillOnce(Return(0.999));
  const RetryBackoff backoff(Millis(1000), Millis(30000), &random);
  EXPECT_EQ(backoff.Delay(1, kNoRetryAfter).count(), 800);   // lowest: 0.8×
  EXPECT_EQ(backoff.Delay(1, kNoRetryAfter).count(), 900);
  EXPECT_EQ(backoff.Delay(1, kNoRetryAfter).count(), 1100);
  EXPECT_EQ(backoff.Delay(1, kNoRetryAfter).count(), 1199);  // just under 1.2×
}

TEST(RetryBackoffTest, JitterNeverGoesAboveTheCap) {
  StrictMock<MockRandom> random;
  EXPECT_CALL(random, Uniform())
      .WillOnce(Return(0.999))
      .WillOnce(Return(0.0))
      .WillOnce(Return(0.9));
  const RetryBackoff backoff(Millis(1000), Millis(1500), &random);
  // 2000 capped to 1500; +20% jitter would be 1798.
  EXPECT_EQ(backoff.Delay(2, kNoRetryAfter).count(), 1500);
  // Jitter still spreads downwards at the cap.
  EXPECT_EQ(backoff.Delay(2, kNoRetryAfter).count(), 1200);
  // Below the cap before jitter (1000), above it after (1160).
  const RetryBackoff tight(Millis(1000), Millis(1100), &random);
  EXPECT_EQ(tight.Delay(1, kNoRetryAfter).count(), 1100);
}

TEST(RetryBackoffTest, HugeRetryCountsSaturateAtTheCap) {
  StrictMock<MockRandom> random;
  EXPECT_CALL(random, Uniform()).WillRepeatedly(Return(0.5));
  const RetryBackoff backoff(Millis(30000), Millis(600000), &random);
  EXPECT_EQ(backoff.Delay(63, kNoRetryAfter).count(), 600000);
  EXPECT_EQ(backoff.Delay(64, kNoRetryAfter).count(), 600000);
  EXPECT_EQ(backoff.Delay(65, kNoRetryAfter).count(), 600000);
  EXPECT_EQ(backoff.Delay(1000, kNoRetryAfter).count(), 600000);
  EXPECT_EQ(backoff.Delay(std::numeric_limits<uint32_t>::max(), kNoRetryAfter).count(), 600000);
}

TEST(RetryBackoffTest, ZeroBaseRetriesAtOnce) {
  StrictMock<MockRandom> random;
  EXPECT_CALL(random, Uniform()).WillRepeatedly(Return(0.999));
  const RetryBackoff backoff(Millis(0), Millis(0), &random);
  EXPECT_EQ(backoff.Delay(1, kNoRetryAfter).count(), 0);
  EXPECT_EQ(backoff.Delay(40, kNoRetryAfter).count(), 0);
}

}  // namespace
}  // namespace kafka_sidecar
