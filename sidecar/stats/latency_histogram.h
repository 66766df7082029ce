// Lock-free histogram of processing times (batch sent -> settled), for the
// mean and p99 in stats. Log-scaled buckets: four per power of two from 1 us,
// so any quantile is within about 19% of the true value.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace kafka_sidecar {

class LatencyHistogram {
 public:
  static constexpr int kBuckets = 128;

  void Record(double millis, uint64_t count);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double MeanMillis() const;
  // 0 when empty.
  double QuantileMillis(double q) const;
  // Upper bound of bucket i, in milliseconds.
  static double BucketUpperMillis(int i);

 private:
  static int BucketFor(double millis);

  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

}  // namespace kafka_sidecar
