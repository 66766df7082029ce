#include "sidecar/stats/fixed_histogram.h"

#include <algorithm>
#include <cmath>

namespace kafka_sidecar {

FixedHistogram::FixedHistogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) counts_[i].store(0);
}

void FixedHistogram::Record(double value, uint64_t count) {
  if (count == 0) return;
  if (std::isnan(value)) return;
  const size_t i = static_cast<size_t>(
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin());
  counts_[i].fetch_add(count, std::memory_order_relaxed);
  const double nanos = std::clamp(value, 0.0, 1e9) * 1e9;
  sum_nanos_.fetch_add(static_cast<uint64_t>(std::llround(nanos)) * count,
                       std::memory_order_relaxed);
}

HistogramSnapshot FixedHistogram::Snapshot() const {
  HistogramSnapshot s;
  s.upper_bounds = upper_bounds_;
  s.counts.reserve(upper_bounds_.size() + 1);
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    s.counts.push_back(counts_[i].load(std::memory_order_relaxed));
  }
  s.sum = sum_nanos_.load(std::memory_order_relaxed) / 1e9;
  return s;
}

}  // namespace kafka_sidecar
