// SidecarStats: per-topic counters and the fixed-bucket processing histogram
// behind /metrics.
#include "sidecar/stats/sidecar_stats.h"

#include <vector>

#include <gtest/gtest.h>

#include "sidecar/stats/fixed_histogram.h"

namespace kafka_sidecar {
namespace {

class FakeClock final : public Clock {
 public:
  MonoTime Now() const override { return now; }
  MonoTime now{};
};

TEST(FixedHistogramTest, CountsExactlyWithBoundsInclusive) {
  FixedHistogram h({0.001, 0.01, 1});
  h.Record(0.0005, 1);
  h.Record(0.001, 2);   // on the bound: le="0.001"
  h.Record(0.0011, 1);
  h.Record(1, 1);
  h.Record(5, 3);       // above the last bound
  h.Record(0.5, 0);     // no observations
  const HistogramSnapshot s = h.Snapshot();
  EXPECT_EQ(s.upper_bounds, (std::vector<double>{0.001, 0.01, 1}));
  EXPECT_EQ(s.counts, (std::vector<uint64_t>{3, 1, 1, 3}));
  EXPECT_NEAR(s.sum, 0.0005 + 2 * 0.001 + 0.0011 + 1 + 15, 1e-9);
}

TEST(SidecarStatsTest, CountsPerTopicAndInTotal) {
  FakeClock clock;
  SidecarStats stats(clock);
  stats.InitTopics({"a", "idle"});
  const TopicPartition a0{"a", 0}, a1{"a", 1}, b0{"b", 0};
  stats.RecordDelivered(a0, {10});
  DeliveryCauseCounts again{};
  again[static_cast<size_t>(DeliveryCause::kFirst)] = 2;
  again[static_cast<size_t>(DeliveryCause::kRetry)] = 1;
  again[static_cast<size_t>(DeliveryCause::kRewind)] = 2;
  stats.RecordDelivered(a1, again);
  stats.RecordDelivered(b0, {2});
  stats.RecordGivenUpOnRevoke(4);
  stats.RecordProcessed(a0, 8, 4.0);
  stats.RecordProcessed(b0, 2, 2000.0);
  stats.RecordFailed(a1, 1);
  stats.RecordRetried(a0, 2);
  stats.RecordDeadLettered(a1, 1);

  const MetricsSnapshot s = stats.Snapshot();
  ASSERT_EQ(s.topics.size(), 3u);
  const TopicCounters& a = s.topics.at("a");
  EXPECT_EQ(a.messages_delivered, 15u);
  EXPECT_EQ(a.batches_delivered, 2u);
  EXPECT_EQ(a.messages_processed, 8u);
  EXPECT_EQ(a.messages_failed, 1u);
  EXPECT_EQ(a.messages_retried, 2u);
  EXPECT_EQ(a.messages_dead_lettered, 1u);
  EXPECT_EQ(s.topics.at("b").messages_delivered, 2u);
  EXPECT_EQ(s.topics.at("b").messages_processed, 2u);
  EXPECT_EQ(s.topics.at("idle").messages_delivered, 0u);

  v1::GetStatsResponse r;
  stats.Fill(&r);
  EXPECT_EQ(r.messages_delivered(), 17u);
  EXPECT_EQ(r.batches_delivered(), 3u);
  EXPECT_EQ(r.messages_processed(), 10u);
  EXPECT_EQ(r.messages_failed(), 1u);
  EXPECT_EQ(r.messages_retried(), 2u);
  EXPECT_EQ(r.messages_dead_lettered(), 1u);
  EXPECT_EQ(r.messages_first_delivered(), 14u);
  EXPECT_EQ(r.redeliveries().retry(), 1u);
  EXPECT_EQ(r.redeliveries().rewind(), 2u);
  EXPECT_EQ(r.redeliveries().ack_timeout(), 0u);
  EXPECT_EQ(r.redeliveries().stream_lost(), 0u);
  EXPECT_EQ(r.redeliveries().rebalance(), 4u);
}

TEST(SidecarStatsTest, ProcessingHistogramCountsAckedMessagesInSeconds) {
  FakeClock clock;
  SidecarStats stats(clock);
  stats.RecordProcessed({"a", 0}, 8, 4.0);      // 4 ms -> le 0.005
  stats.RecordProcessed({"a", 0}, 2, 2000.0);   // 2 s -> le 2.5
  stats.RecordProcessed({"a", 0}, 1, 120000.0); // 2 min -> +Inf
  const HistogramSnapshot h = stats.Snapshot().processing_seconds;
  ASSERT_EQ(h.upper_bounds, SidecarStats::ProcessingSecondsBounds());
  ASSERT_EQ(h.counts.size(), h.upper_bounds.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    total += h.counts[i];
    const double bound = i < h.upper_bounds.size() ? h.upper_bounds[i] : -1;
    if (bound == 0.005) {
      EXPECT_EQ(h.counts[i], 8u);
    } else if (bound == 2.5) {
      EXPECT_EQ(h.counts[i], 2u);
    } else if (bound > 0) {
      EXPECT_EQ(h.counts[i], 0u) << "le " << bound;
    }
  }
  EXPECT_EQ(h.counts.back(), 1u);
  EXPECT_EQ(total, 11u);
  EXPECT_NEAR(h.sum, 8 * 0.004 + 2 * 2.0 + 120.0, 1e-6);
}

}  // namespace
}  // namespace kafka_sidecar
