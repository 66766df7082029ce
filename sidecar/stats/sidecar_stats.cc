#include "sidecar/stats/sidecar_stats.h"

#include <chrono>

namespace kafka_sidecar {
namespace {

constexpr int64_t kRecentWindowSeconds = 10;

int64_t Nanos(MonoTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

const std::vector<double>& SidecarStats::ProcessingSecondsBounds() {
  // 1 ms to 1 min: a handler answering faster than 1 ms is in the first
  // bucket, and one slower than the default 30 s ack timeout in the last.
  static const std::vector<double> bounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,      2.5,   5,    10,    30,   60};
  return bounds;
}

SidecarStats::SidecarStats(const Clock& clock)
    : clock_(clock),
      started_(clock.Now()),
      last_activity_ns_(Nanos(started_)),
      processing_seconds_(ProcessingSecondsBounds()) {}

void SidecarStats::InitTopics(const std::vector<std::string>& topics) {
  MutexLock l(&mu_);
  for (const std::string& t : topics) topics_.try_emplace(t);
}

void SidecarStats::MarkActivity(MonoTime now) {
  last_activity_ns_.store(Nanos(now), std::memory_order_relaxed);
}

void SidecarStats::RecordDelivered(const TopicPartition& tp,
                                   const DeliveryCauseCounts& by_cause) {
  uint64_t messages = 0;
  for (size_t i = 0; i < by_cause.size(); ++i) {
    if (by_cause[i] == 0) continue;
    messages += by_cause[i];
    by_cause_[i].fetch_add(by_cause[i], std::memory_order_relaxed);
  }
  delivered_.fetch_add(messages, std::memory_order_relaxed);
  batches_delivered_.fetch_add(1, std::memory_order_relaxed);
  MarkActivity(clock_.Now());
  MutexLock l(&mu_);
  TopicCounters& t = topics_[tp.topic];
  t.messages_delivered += messages;
  ++t.batches_delivered;
}

void SidecarStats::RecordProcessed(const TopicPartition& tp, uint64_t count, double latency_ms) {
  if (count == 0) return;
  processed_.fetch_add(count, std::memory_order_relaxed);
  processing_time_.Record(latency_ms, count);
  processing_seconds_.Record(latency_ms / 1000.0, count);
  const MonoTime now = clock_.Now();
  MarkActivity(now);
  const int64_t sec = Nanos(now) / 1'000'000'000;
  MutexLock l(&mu_);
  topics_[tp.topic].messages_processed += count;
  if (recent_.empty() || recent_.back().first != sec) recent_.emplace_back(sec, 0);
  recent_.back().second += count;
  while (recent_.front().first <= sec - kRecentWindowSeconds) recent_.pop_front();
}

void SidecarStats::RecordFailed(const TopicPartition& tp, uint64_t count) {
  failed_.fetch_add(count, std::memory_order_relaxed);
  MutexLock l(&mu_);
  partition_errors_[tp] += count;
  topics_[tp.topic].messages_failed += count;
}

void SidecarStats::RecordRetried(const TopicPartition& tp, uint64_t count) {
  retried_.fetch_add(count, std::memory_order_relaxed);
  MutexLock l(&mu_);
  partition_errors_[tp] += count;
  topics_[tp.topic].messages_retried += count;
}

void SidecarStats::RecordDeadLettered(const TopicPartition& tp, uint64_t count) {
  dead_lettered_.fetch_add(count, std::memory_order_relaxed);
  MutexLock l(&mu_);
  topics_[tp.topic].messages_dead_lettered += count;
}

void SidecarStats::RecordDeadLetterFailure(const TopicPartition& tp, bool permanent) {
  (permanent ? dead_letter_permanent_failures_ : dead_letter_transient_failures_)
      .fetch_add(1, std::memory_order_relaxed);
  MutexLock l(&mu_);
  TopicCounters& c = topics_[tp.topic];
  ++(permanent ? c.dead_letter_permanent_failures : c.dead_letter_transient_failures);
}

void SidecarStats::RecordDeadLetterSkipped(const TopicPartition& tp) {
  dead_letter_skipped_.fetch_add(1, std::memory_order_relaxed);
  MutexLock l(&mu_);
  ++topics_[tp.topic].messages_dead_letter_skipped;
}

MetricsSnapshot SidecarStats::Snapshot() const {
  MetricsSnapshot out;
  out.processing_seconds = processing_seconds_.Snapshot();
  MutexLock l(&mu_);
  for (const auto& [topic, counters] : topics_) out.topics.emplace(topic, counters);
  return out;
}

void SidecarStats::Fill(v1::GetStatsResponse* out) const {
  const MonoTime now = clock_.Now();
  const double uptime = std::chrono::duration<double>(now - started_).count();
  const uint64_t processed = processed_.load(std::memory_order_relaxed);
  const uint64_t failed = failed_.load(std::memory_order_relaxed);
  out->set_uptime_seconds(uptime);
  out->set_messages_processed(processed);
  out->set_messages_failed(failed);
  out->set_processing_rate_per_second(uptime > 0 ? processed / uptime : 0.0);
  out->set_average_processing_time_ms(processing_time_.MeanMillis());
  out->set_error_rate_percent(processed + failed == 0 ? 0.0 : 100.0 * failed / (processed + failed));
  out->set_messages_delivered(delivered_.load(std::memory_order_relaxed));
  out->set_messages_retried(retried_.load(std::memory_order_relaxed));
  auto caused = [this](DeliveryCause c) {
    return by_cause_[static_cast<size_t>(c)].load(std::memory_order_relaxed);
  };
  out->set_messages_first_delivered(caused(DeliveryCause::kFirst));
  v1::Redeliveries* again = out->mutable_redeliveries();
  again->set_retry(caused(DeliveryCause::kRetry));
  again->set_ack_timeout(caused(DeliveryCause::kAckTimeout));
  again->set_rewind(caused(DeliveryCause::kRewind));
  again->set_stream_lost(caused(DeliveryCause::kStreamLost));
  again->set_rebalance(given_up_on_revoke_.load(std::memory_order_relaxed));
  out->set_messages_dead_lettered(dead_lettered_.load(std::memory_order_relaxed));
  out->set_dead_letter_transient_failures(
      dead_letter_transient_failures_.load(std::memory_order_relaxed));
  out->set_dead_letter_permanent_failures(
      dead_letter_permanent_failures_.load(std::memory_order_relaxed));
  out->set_messages_dead_letter_skipped(dead_letter_skipped_.load(std::memory_order_relaxed));
  const int64_t in_flight = in_flight_.load(std::memory_order_relaxed);
  out->set_messages_in_flight(in_flight > 0 ? static_cast<uint64_t>(in_flight) : 0);
  out->set_batches_delivered(batches_delivered_.load(std::memory_order_relaxed));
  out->set_stale_settlements(stale_settlements_.load(std::memory_order_relaxed));
  out->set_rebalances(rebalances_.load(std::memory_order_relaxed));
  out->set_processing_time_p99_ms(processing_time_.QuantileMillis(0.99));
  out->set_seconds_since_last_activity(
      (Nanos(now) - last_activity_ns_.load(std::memory_order_relaxed)) / 1e9);

  const int64_t sec = Nanos(now) / 1'000'000'000;
  MutexLock l(&mu_);
  for (const auto& [tp, n] : partition_errors_) (*out->mutable_partition_errors())[tp.ToString()] = n;
  uint64_t recent = 0;
  for (const auto& [s, n] : recent_) {
    if (s > sec - kRecentWindowSeconds) recent += n;
  }
  const double window = std::min<double>(kRecentWindowSeconds, std::max(uptime, 1e-9));
  out->set_recent_processing_rate_per_second(recent / window);
}

}  // namespace kafka_sidecar
