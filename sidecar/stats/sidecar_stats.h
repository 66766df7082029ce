// Process-wide counters behind GetStats (SPEC §2 definitions). Written by
// dispatchers and reactors with relaxed atomics; read by GetStats.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "sidecar/common/mutex.h"
#include "kafka_sidecar/v1/sidecar.pb.h"
#include "sidecar/common/clock.h"
#include "sidecar/common/topic_partition.h"
#include "sidecar/stats/latency_histogram.h"

namespace kafka_sidecar {

class SidecarStats {
 public:
  explicit SidecarStats(const Clock& clock);

  void RecordDelivered(uint64_t messages);
  // `count` messages ACKed, `latency_ms` after their batch was sent.
  void RecordProcessed(uint64_t count, double latency_ms);
  void RecordFailed(const TopicPartition& tp, uint64_t count);
  void RecordRetried(const TopicPartition& tp, uint64_t count);
  void RecordDeadLettered(uint64_t count) {
    dead_lettered_.fetch_add(count, std::memory_order_relaxed);
  }
  void RecordStale(uint64_t count) { stale_settlements_.fetch_add(count, std::memory_order_relaxed); }
  void RecordRebalance() { rebalances_.fetch_add(1, std::memory_order_relaxed); }
  // Messages handed to a stream and not settled yet.
  void AddInFlight(int64_t delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }
  int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  uint64_t processed() const { return processed_.load(std::memory_order_relaxed); }

  // Fills the process-wide fields of a GetStats response.
  void Fill(v1::GetStatsResponse* out) const;

 private:
  void MarkActivity(MonoTime now);
  void RecordPartitionError(const TopicPartition& tp, uint64_t count);

  const Clock& clock_;
  const MonoTime started_;
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> batches_delivered_{0};
  std::atomic<uint64_t> processed_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> retried_{0};
  std::atomic<uint64_t> dead_lettered_{0};
  std::atomic<uint64_t> stale_settlements_{0};
  std::atomic<uint64_t> rebalances_{0};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> last_activity_ns_;
  LatencyHistogram processing_time_;

  mutable Mutex mu_;
  absl::flat_hash_map<TopicPartition, uint64_t> partition_errors_ ABSL_GUARDED_BY(mu_);
  // Processed counts per second over the last ten seconds, for the recent rate.
  std::deque<std::pair<int64_t, uint64_t>> recent_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kafka_sidecar
