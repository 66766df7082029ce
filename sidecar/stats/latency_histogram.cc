#include "sidecar/stats/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace kafka_sidecar {

int LatencyHistogram::BucketFor(double millis) {
  const double micros = millis * 1000.0;
  if (!(micros > 1.0)) return 0;
  const int b = static_cast<int>(std::ceil(std::log2(micros) * 4.0));
  return std::clamp(b, 0, kBuckets - 1);
}

double LatencyHistogram::BucketUpperMillis(int i) { return std::exp2(i / 4.0) / 1000.0; }

void LatencyHistogram::Record(double millis, uint64_t count) {
  if (count == 0) return;
  buckets_[BucketFor(millis)].fetch_add(count, std::memory_order_relaxed);
  count_.fetch_add(count, std::memory_order_relaxed);
  const double micros = std::max(0.0, millis * 1000.0);
  sum_micros_.fetch_add(static_cast<uint64_t>(micros) * count, std::memory_order_relaxed);
}

double LatencyHistogram::MeanMillis() const {
  const uint64_t n = count();
  return n == 0 ? 0.0 : sum_micros_.load(std::memory_order_relaxed) / 1000.0 / n;
}

double LatencyHistogram::QuantileMillis(double q) const {
  uint64_t total = 0;
  std::array<uint64_t, kBuckets> snap;
  for (int i = 0; i < kBuckets; ++i) {
    snap[i] = buckets_[i].load(std::memory_order_relaxed);
    total += snap[i];
  }
  if (total == 0) return 0.0;
  const uint64_t rank = static_cast<uint64_t>(std::ceil(q * total));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += snap[i];
    if (seen >= rank) return BucketUpperMillis(i);
  }
  return BucketUpperMillis(kBuckets - 1);
}

}  // namespace kafka_sidecar
