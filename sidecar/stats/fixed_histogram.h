// Lock-free histogram over fixed upper bounds, counted exactly, for the
// Prometheus export (LatencyHistogram's log buckets serve the quantiles in
// GetStats but do not line up with Prometheus' `le` bounds).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "sidecar/stats/metrics_source.h"

namespace kafka_sidecar {

class FixedHistogram {
 public:
  // `upper_bounds` strictly increasing and finite; +Inf is implied.
  explicit FixedHistogram(std::vector<double> upper_bounds);

  // `count` observations of `value`; a value equal to a bound falls in that
  // bound's bucket (Prometheus' `le`).
  void Record(double value, uint64_t count);
  HistogramSnapshot Snapshot() const;

 private:
  const std::vector<double> upper_bounds_;
  // One per bound plus the overflow bucket.
  const std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  // Sum in nanounits so it can be an integer atomic: exact to 1 ns, and good
  // for 584 years of summed processing time.
  std::atomic<uint64_t> sum_nanos_{0};
};

}  // namespace kafka_sidecar
