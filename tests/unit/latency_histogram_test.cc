// LatencyHistogram: mean and quantiles of processing times.
#include "sidecar/stats/latency_histogram.h"

#include <cmath>
#include <random>
#include <vector>
#include <algorithm>

#include <gtest/gtest.h>

namespace kafka_sidecar {
namespace {

// Four buckets per power of two: a reported quantile is the upper bound of
// the bucket holding the true value, so it lies in [true, true * 2^(1/4)].
const double kBucketRatio = std::exp2(0.25);

void ExpectWithinBucket(double reported, double truth) {
  EXPECT_GE(reported, truth * (1 - 1e-9)) << "true value " << truth;
  EXPECT_LE(reported, truth * kBucketRatio * (1 + 1e-9)) << "true value " << truth;
}

TEST(LatencyHistogramTest, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.MeanMillis(), 0.0);
  EXPECT_EQ(h.QuantileMillis(0.99), 0.0);
}

TEST(LatencyHistogramTest, UniformOneToThousandMillis) {
  LatencyHistogram h;
  for (int ms = 1; ms <= 1000; ++ms) h.Record(ms, 1);
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_NEAR(h.MeanMillis(), 500.5, 1e-6);  // the mean is exact, not bucketed
  ExpectWithinBucket(h.QuantileMillis(0.99), 990.0);
  ExpectWithinBucket(h.QuantileMillis(0.5), 500.0);
  ExpectWithinBucket(h.QuantileMillis(1.0), 1000.0);
}

TEST(LatencyHistogramTest, CountsWeighSamples) {
  LatencyHistogram h;
  h.Record(2.0, 990);   // 990 samples of 2 ms
  h.Record(250.0, 10);  // 10 samples of 250 ms
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_NEAR(h.MeanMillis(), (2.0 * 990 + 250.0 * 10) / 1000, 1e-6);
  ExpectWithinBucket(h.QuantileMillis(0.99), 2.0);    // the 990th sample
  ExpectWithinBucket(h.QuantileMillis(0.995), 250.0);
  h.Record(5.0, 0);  // no samples: ignored
  EXPECT_EQ(h.count(), 1000u);
}

TEST(LatencyHistogramTest, RandomLogNormalMatchesExactQuantiles) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(std::log(20.0), 1.0);  // median ~20 ms
  std::vector<double> samples;
  LatencyHistogram h;
  double sum = 0;
  for (int i = 0; i < 20000; ++i) {
    const double ms = dist(rng);
    samples.push_back(ms);
    sum += ms;
    h.Record(ms, 1);
  }
  std::sort(samples.begin(), samples.end());
  // Nearest-rank quantile.
  auto exact = [&](double q) {
    return samples[static_cast<size_t>(std::ceil(q * samples.size())) - 1];
  };
  ExpectWithinBucket(h.QuantileMillis(0.99), exact(0.99));
  ExpectWithinBucket(h.QuantileMillis(0.5), exact(0.5));
  // The mean sums whole microseconds: off by under 1 us per sample.
  EXPECT_NEAR(h.MeanMillis(), sum / samples.size(), 0.001);
}

TEST(LatencyHistogramTest, BucketBoundsGrowByAQuarterPowerOfTwo) {
  EXPECT_DOUBLE_EQ(LatencyHistogram::BucketUpperMillis(0), 0.001);  // 1 us
  EXPECT_DOUBLE_EQ(LatencyHistogram::BucketUpperMillis(40), 1.024);  // 2^10 us
  for (int i = 1; i < LatencyHistogram::kBuckets; ++i) {
    EXPECT_NEAR(LatencyHistogram::BucketUpperMillis(i) / LatencyHistogram::BucketUpperMillis(i - 1),
                kBucketRatio, 1e-12);
  }
}

TEST(LatencyHistogramTest, TinyAndZeroLatenciesLandInTheFirstBucket) {
  LatencyHistogram h;
  h.Record(0.0, 3);
  h.Record(0.0005, 1);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_DOUBLE_EQ(h.QuantileMillis(0.99), LatencyHistogram::BucketUpperMillis(0));
  EXPECT_LT(h.MeanMillis(), 0.001);
}

}  // namespace
}  // namespace kafka_sidecar
