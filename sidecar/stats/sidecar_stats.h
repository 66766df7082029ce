// Process-wide counters behind GetStats (SPEC §2 definitions), plus the
// per-topic counters and the fixed-bucket histogram behind /metrics. Written
// by dispatchers and reactors: relaxed atomics, and at most one short lock
// per batch or settlement.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "sidecar/common/mutex.h"
#include "kafka_sidecar/v1/sidecar.pb.h"
#include "sidecar/common/clock.h"
#include "sidecar/common/topic_partition.h"
#include "sidecar/stats/delivery_cause.h"
#include "sidecar/stats/fixed_histogram.h"
#include "sidecar/stats/latency_histogram.h"
#include "sidecar/stats/metrics_source.h"

namespace kafka_sidecar {

class SidecarStats final : public MetricsSource {
 public:
  // Upper bounds of the processing-time histogram /metrics exports, seconds.
  static const std::vector<double>& ProcessingSecondsBounds();

  explicit SidecarStats(const Clock& clock);

  // Topics whose per-topic counters exist from the start at zero, so that a
  // scrape sees a counter before its first increment (Prometheus' rate()
  // cannot count the increment that creates a series).
  void InitTopics(const std::vector<std::string>& topics);

  // One batch sent to a stream, its messages counted by why they went out.
  void RecordDelivered(const TopicPartition& tp, const DeliveryCauseCounts& messages);
  // Messages delivered here and unsettled when their partition was revoked
  // or lost: its next owner delivers them again.
  void RecordGivenUpOnRevoke(uint64_t count) {
    given_up_on_revoke_.fetch_add(count, std::memory_order_relaxed);
  }
  // `count` messages ACKed, `latency_ms` after their batch was sent.
  void RecordProcessed(const TopicPartition& tp, uint64_t count, double latency_ms);
  void RecordFailed(const TopicPartition& tp, uint64_t count);
  void RecordRetried(const TopicPartition& tp, uint64_t count);
  void RecordDeadLettered(const TopicPartition& tp, uint64_t count);
  // A dead-letter produce Kafka refused (IsPermanentDeadLetterFailure).
  void RecordDeadLetterFailure(const TopicPartition& tp, bool permanent);
  // A message skipped after a permanent dead-letter failure.
  void RecordDeadLetterSkipped(const TopicPartition& tp);
  void RecordStale(uint64_t count) { stale_settlements_.fetch_add(count, std::memory_order_relaxed); }
  void RecordRebalance() { rebalances_.fetch_add(1, std::memory_order_relaxed); }
  // Messages handed to a stream and not settled yet.
  void AddInFlight(int64_t delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }
  int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  uint64_t processed() const { return processed_.load(std::memory_order_relaxed); }

  // Fills the process-wide fields of a GetStats response.
  void Fill(v1::GetStatsResponse* out) const;

  // MetricsSource.
  MetricsSnapshot Snapshot() const override;

 private:
  void MarkActivity(MonoTime now);

  const Clock& clock_;
  const MonoTime started_;
  std::atomic<uint64_t> delivered_{0};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(DeliveryCause::kCount)> by_cause_{};
  std::atomic<uint64_t> given_up_on_revoke_{0};
  std::atomic<uint64_t> batches_delivered_{0};
  std::atomic<uint64_t> processed_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> retried_{0};
  std::atomic<uint64_t> dead_lettered_{0};
  std::atomic<uint64_t> dead_letter_transient_failures_{0};
  std::atomic<uint64_t> dead_letter_permanent_failures_{0};
  std::atomic<uint64_t> dead_letter_skipped_{0};
  std::atomic<uint64_t> stale_settlements_{0};
  std::atomic<uint64_t> rebalances_{0};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> last_activity_ns_;
  LatencyHistogram processing_time_;
  FixedHistogram processing_seconds_;

  mutable Mutex mu_;
  absl::flat_hash_map<TopicPartition, uint64_t> partition_errors_ ABSL_GUARDED_BY(mu_);
  // Bounded by the topics consumed.
  absl::flat_hash_map<std::string, TopicCounters> topics_ ABSL_GUARDED_BY(mu_);
  // Processed counts per second over the last ten seconds, for the recent rate.
  std::deque<std::pair<int64_t, uint64_t>> recent_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kafka_sidecar
