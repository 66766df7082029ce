// What /metrics needs beyond the GetStats snapshot: counters per topic that
// only ever grow (the per-partition counters in GetStats restart when a
// partition is reassigned, so a Prometheus counter cannot come from them) and
// the processing-time histogram with Prometheus' fixed buckets.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kafka_sidecar {

struct TopicCounters {
  uint64_t messages_delivered = 0;
  uint64_t batches_delivered = 0;
  uint64_t messages_processed = 0;
  uint64_t messages_failed = 0;
  uint64_t messages_retried = 0;
  uint64_t messages_dead_lettered = 0;
  uint64_t dead_letter_transient_failures = 0;
  uint64_t dead_letter_permanent_failures = 0;
  uint64_t messages_dead_letter_skipped = 0;
};

// Exact counts per bucket (not cumulative): counts[i] observations fell in
// (upper_bounds[i-1], upper_bounds[i]]; counts has one more entry than
// upper_bounds, for the values above the last bound.
struct HistogramSnapshot {
  std::vector<double> upper_bounds;
  std::vector<uint64_t> counts;
  double sum = 0;
};

struct MetricsSnapshot {
  std::map<std::string, TopicCounters> topics;
  // Batch sent -> ACK, one observation per ACKed message, in seconds.
  HistogramSnapshot processing_seconds;
};

// Any thread; never waits on a dispatcher.
class MetricsSource {
 public:
  virtual ~MetricsSource() = default;
  virtual MetricsSnapshot Snapshot() const = 0;
};

}  // namespace kafka_sidecar
