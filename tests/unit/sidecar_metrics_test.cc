// The sidecar's metric families from a hand-built GetStats snapshot, health
// status and counter snapshot.
#include "sidecar/metrics/sidecar_metrics.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace kafka_sidecar {
namespace {

using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const MetricFamily* Find(const std::vector<MetricFamily>& families, const std::string& name) {
  for (const MetricFamily& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// The value of the one sample with exactly `labels`.
std::optional<double> Value(const std::vector<MetricFamily>& families, const std::string& name,
                            const Labels& labels = {}) {
  const MetricFamily* f = Find(families, name);
  if (f == nullptr) return std::nullopt;
  for (const Sample& s : f->samples) {
    if (s.labels == labels) return s.value;
  }
  return std::nullopt;
}

v1::PartitionStats Partition(const std::string& topic, int32_t partition) {
  v1::PartitionStats p;
  p.set_topic(topic);
  p.set_partition(partition);
  p.set_committed_offset(-1);
  return p;
}

class SidecarMetricsTest : public ::testing::Test {
 protected:
  SidecarMetricsTest() {
    stats_.set_uptime_seconds(12.5);
    stats_.set_group_id("g");
    stats_.set_messages_in_flight(7);
    stats_.set_stale_settlements(3);
    stats_.set_rebalances(2);

    v1::PartitionStats p0 = Partition("orders", 0);
    p0.set_committed_offset(100);
    p0.set_high_watermark(150);
    p0.set_lag(50);
    p0.set_in_flight(5);
    // Per-partition counters restart on reassignment; they must not be
    // what the counters are made of.
    p0.set_delivered(1);
    p0.set_processed(1);
    *stats_.add_partitions() = p0;
    v1::PartitionStats p1 = Partition("orders", 1);
    p1.set_paused(true);
    p1.set_pause_cause(v1::PAUSE_CAUSE_ERROR_THRESHOLD);
    p1.set_in_flight(2);
    *stats_.add_partitions() = p1;  // no committed offset, no watermark yet
    v1::PartitionStats p2 = Partition("audit", 0);
    p2.set_committed_offset(0);
    *stats_.add_partitions() = p2;
    stats_.add_streams()->set_stream_id("s-1");
    stats_.set_messages_first_delivered(280);
    stats_.mutable_redeliveries()->set_retry(6);
    stats_.mutable_redeliveries()->set_rewind(14);
    stats_.mutable_redeliveries()->set_rebalance(7);

    health_.live = true;
    health_.ready = false;

    TopicCounters orders;
    orders.messages_delivered = 300;
    orders.batches_delivered = 4;
    orders.messages_processed = 290;
    orders.messages_failed = 10;
    orders.messages_retried = 6;
    orders.messages_dead_lettered = 9;
    counters_.topics["orders"] = orders;
    counters_.topics["audit"] = TopicCounters{};
    counters_.processing_seconds.upper_bounds = {0.01, 0.1};
    counters_.processing_seconds.counts = {5, 2, 1};
    counters_.processing_seconds.sum = 0.75;
  }

  v1::GetStatsResponse stats_;
  HealthStatus health_;
  MetricsSnapshot counters_;
};

TEST_F(SidecarMetricsTest, CountersPerTopicComeFromTheMonotonicSnapshot) {
  const auto families = SidecarMetrics().Families(stats_, health_, counters_);
  const Labels orders = {{"topic", "orders"}};
  const Labels audit = {{"topic", "audit"}};
  EXPECT_EQ(Value(families, "kafka_sidecar_messages_delivered_total", orders), 300);
  EXPECT_EQ(Value(families, "kafka_sidecar_messages_processed_total", orders), 290);
  EXPECT_EQ(Value(families, "kafka_sidecar_messages_failed_total", orders), 10);
  EXPECT_EQ(Value(families, "kafka_sidecar_messages_retried_total", orders), 6);
  EXPECT_EQ(Value(families, "kafka_sidecar_messages_dead_lettered_total", orders), 9);
  EXPECT_EQ(Value(families, "kafka_sidecar_batches_delivered_total", orders), 4);
  // A topic with nothing yet still has its series, at zero.
  EXPECT_EQ(Value(families, "kafka_sidecar_messages_delivered_total", audit), 0);
  EXPECT_EQ(Value(families, "kafka_sidecar_stale_settlements_total"), 3);
  EXPECT_EQ(Value(families, "kafka_sidecar_rebalances_total"), 2);
  EXPECT_EQ(Value(families, "kafka_sidecar_messages_first_delivered_total"), 280);
  EXPECT_EQ(Value(families, "kafka_sidecar_messages_redelivered_total", {{"cause", "retry"}}), 6);
  EXPECT_EQ(Value(families, "kafka_sidecar_messages_redelivered_total", {{"cause", "rewind"}}),
            14);
  EXPECT_EQ(
      Value(families, "kafka_sidecar_messages_redelivered_total", {{"cause", "stream_lost"}}), 0);
  EXPECT_EQ(Value(families, "kafka_sidecar_messages_redelivered_total", {{"cause", "rebalance"}}),
            7);
  for (const MetricFamily& f : families) {
    if (f.type == MetricType::kCounter) {
      EXPECT_TRUE(absl::EndsWith(f.name, "_total")) << f.name;
    }
  }
}

TEST_F(SidecarMetricsTest, GaugesFromStatsAndHealth) {
  const auto families = SidecarMetrics().Families(stats_, health_, counters_);
  EXPECT_EQ(Value(families, "kafka_sidecar_up"), 1);
  EXPECT_EQ(Value(families, "kafka_sidecar_ready"), 0);
  EXPECT_EQ(Value(families, "kafka_sidecar_uptime_seconds"), 12.5);
  EXPECT_EQ(Value(families, "kafka_sidecar_messages_in_flight"), 7);
  EXPECT_EQ(Value(families, "kafka_sidecar_assigned_partitions"), 3);
  EXPECT_EQ(Value(families, "kafka_sidecar_paused_partitions"), 1);
  EXPECT_EQ(Value(families, "kafka_sidecar_connected_streams"), 1);
  EXPECT_EQ(Value(families, "kafka_sidecar_stalled_partitions"), 0);
}

TEST_F(SidecarMetricsTest, StalledPartitionsCountTheFailingStallChecks) {
  health_.checks.push_back(HealthCheck{"kafka", false, "down"});
  health_.checks.push_back(HealthCheck{"stalled:orders/0", false, "lag 50"});
  health_.checks.push_back(HealthCheck{"stalled:orders/1", false, "lag 3"});
  const auto families = SidecarMetrics().Families(stats_, health_, counters_);
  EXPECT_EQ(Value(families, "kafka_sidecar_stalled_partitions"), 2);
}

TEST_F(SidecarMetricsTest, PartitionGaugesOnlyWhereKnown) {
  const auto families = SidecarMetrics().Families(stats_, health_, counters_);
  const Labels o0 = {{"topic", "orders"}, {"partition", "0"}};
  const Labels o1 = {{"topic", "orders"}, {"partition", "1"}};
  const Labels a0 = {{"topic", "audit"}, {"partition", "0"}};
  EXPECT_EQ(Value(families, "kafka_sidecar_partition_lag", o0), 50);
  EXPECT_EQ(Value(families, "kafka_sidecar_partition_high_watermark", o0), 150);
  EXPECT_EQ(Value(families, "kafka_sidecar_partition_committed_offset", o0), 100);
  EXPECT_EQ(Value(families, "kafka_sidecar_partition_committed_offset", a0), 0);
  // Not reported by the broker yet: no series rather than a false 0.
  EXPECT_EQ(Value(families, "kafka_sidecar_partition_lag", o1), std::nullopt);
  EXPECT_EQ(Value(families, "kafka_sidecar_partition_high_watermark", o1), std::nullopt);
  EXPECT_EQ(Value(families, "kafka_sidecar_partition_committed_offset", o1), std::nullopt);
  EXPECT_EQ(Value(families, "kafka_sidecar_partition_in_flight", o0), 5);
  EXPECT_EQ(Value(families, "kafka_sidecar_partition_in_flight", o1), 2);
  const auto paused = [&](Labels labels, const char* cause) {
    labels.emplace_back("cause", cause);
    return Value(families, "kafka_sidecar_partition_paused", labels);
  };
  EXPECT_EQ(paused(o0, "request"), 0);
  EXPECT_EQ(paused(o0, "error_threshold"), 0);
  EXPECT_EQ(paused(o1, "request"), 0);
  EXPECT_EQ(paused(o1, "error_threshold"), 1);
  EXPECT_EQ(paused(o1, "dead_letter"), 0);
  // Every cause for every partition, paused or not.
  EXPECT_EQ(Find(families, "kafka_sidecar_partition_paused")->samples.size(), 9u);
}

TEST_F(SidecarMetricsTest, NoUnboundedLabels) {
  const auto families = SidecarMetrics().Families(stats_, health_, counters_);
  const std::set<std::string> allowed = {"topic",    "partition", "le", "version", "librdkafka_version",
                                         "group_id", "group_protocol", "cause", "kind"};
  for (const MetricFamily& f : families) {
    EXPECT_TRUE(absl::StartsWith(f.name, "kafka_sidecar_")) << f.name;
    for (const Sample& s : f.samples) {
      for (const auto& [name, value] : s.labels) {
        EXPECT_TRUE(allowed.count(name)) << f.name << " has label " << name;
      }
    }
  }
}

TEST_F(SidecarMetricsTest, PartitionGaugesLeftOutPastTheCap) {
  const auto families = SidecarMetrics(/*max_partition_series=*/2)
                            .Families(stats_, health_, counters_);
  for (const MetricFamily& f : families) {
    EXPECT_FALSE(absl::StartsWith(f.name, "kafka_sidecar_partition_")) << f.name;
  }
  // The totals stay.
  EXPECT_EQ(Value(families, "kafka_sidecar_assigned_partitions"), 3);
  EXPECT_EQ(Value(families, "kafka_sidecar_paused_partitions"), 1);
  EXPECT_EQ(Value(families, "kafka_sidecar_messages_delivered_total", {{"topic", "orders"}}), 300);

  // At the cap they are still there.
  const auto at_cap = SidecarMetrics(3).Families(stats_, health_, counters_);
  ASSERT_NE(Find(at_cap, "kafka_sidecar_partition_in_flight"), nullptr);
  EXPECT_EQ(Find(at_cap, "kafka_sidecar_partition_in_flight")->samples.size(), 3u);
}

TEST_F(SidecarMetricsTest, ProcessingHistogramFromTheSnapshot) {
  const auto families = SidecarMetrics().Families(stats_, health_, counters_);
  const MetricFamily* h = Find(families, "kafka_sidecar_processing_time_seconds");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->type, MetricType::kHistogram);
  ASSERT_EQ(h->histograms.size(), 1u);
  EXPECT_THAT(h->histograms[0].labels, IsEmpty());
  EXPECT_EQ(h->histograms[0].upper_bounds, (std::vector<double>{0.01, 0.1}));
  EXPECT_EQ(h->histograms[0].counts, (std::vector<uint64_t>{5, 2, 1}));
  EXPECT_EQ(h->histograms[0].sum, 0.75);
}

TEST_F(SidecarMetricsTest, RenderedTextHasEachFamilyOnce) {
  const std::string text = SidecarMetrics().Render(stats_, health_, counters_);
  std::map<std::string, int> types;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "# TYPE ")) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      ASSERT_EQ(parts.size(), 4u) << line;
      ++types[parts[2]];
    }
  }
  for (const auto& [name, n] : types) EXPECT_EQ(n, 1) << name;
  EXPECT_EQ(types.count("kafka_sidecar_messages_processed_total"), 1u);
  EXPECT_EQ(types.count("kafka_sidecar_processing_time_seconds"), 1u);
  EXPECT_EQ(types.count("kafka_sidecar_partition_lag"), 1u);
}

}  // namespace
}  // namespace kafka_sidecar
