// End-to-end: the sidecar's HTTP admin endpoint (README "Metrics and health
// endpoints") after a known workload, read the way Prometheus reads it
// (prometheus_client's parser), and /stats as JSON.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_test_base.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/ports.h"

namespace kafka_sidecar::testing {
namespace {

class MetricsE2eTest : public E2eTest {};

constexpr int kPartitions = 2;
constexpr int64_t kMessages = 300;
// Rejected on every delivery, in each partition: a REJECT fails a message
// at once (no retry), and with no dead-letter topic it is skipped.
const std::set<int64_t> kRejectedOffsets = {7, 57, 107};
constexpr int64_t kRejected = 3 * kPartitions;
constexpr int64_t kAcked = kMessages - kRejected;

std::string Dump(const ParsedMetrics& m) {
  std::string out;
  for (const MetricSample& s : m.samples()) {
    absl::StrAppend(&out, "  ", s.name, "{");
    for (const auto& [k, v] : s.labels) absl::StrAppend(&out, k, "=", v, ",");
    absl::StrAppend(&out, "} ", s.value, "\n");
  }
  return out;
}

TEST_F(MetricsE2eTest, MetricsAndStatsMatchAKnownWorkload) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, kPartitions, kMessages);
  ASSERT_TRUE(end.ok()) << end.status();
  ASSERT_EQ(Sum(*end), kMessages) << Format(*end);
  for (const auto& [p, o] : *end) ASSERT_GT(o, *kRejectedOffsets.rbegin()) << Format(*end);

  const int http_port = PickFreePort();
  ASSERT_GT(http_port, 0);
  SidecarProcess* sidecar = StartSidecar(Options(
      group, {topic}, {{"server.http_listen", absl::StrCat("\"127.0.0.1:", http_port, "\"")}}));
  ASSERT_NE(sidecar, nullptr);
  EXPECT_NE(sidecar->log().find(absl::StrCat("admin HTTP on 127.0.0.1:", http_port)),
            std::string::npos)
      << "the start-up log names the admin address";

  TestHandler handler;
  handler.SetMessagePolicy([](const v1::Batch&, const v1::Message& m) {
    return kRejectedOffsets.count(m.offset()) ? v1::OUTCOME_REJECT : v1::OUTCOME_ACK;
  });
  absl::StatusOr<v1::Subscribed> subscribed = handler.Connect(sidecar->grpc_target());
  ASSERT_TRUE(subscribed.ok()) << subscribed.status();
  ASSERT_TRUE(handler.WaitFor(
      [](const HandlerState& s) { return s.distinct_count >= static_cast<uint64_t>(kMessages); },
      absl::Minutes(2)))
      << "received " << handler.DistinctCount() << " of " << kMessages;
  absl::Status committed = AwaitCommittedAtEnd(group, topic, *end, absl::Minutes(1));
  ASSERT_TRUE(committed.ok()) << committed;

  // Settlements reach the counters asynchronously, and the broker's view
  // (committed offset, high watermark) comes with librdkafka's statistics:
  // scrape until both have caught up.
  auto partition_labels = [&](int32_t p) {
    return MetricLabels{{"topic", topic}, {"partition", absl::StrCat(p)}};
  };
  std::optional<ParsedMetrics> metrics;
  std::string last = "no scrape yet";
  const bool settled = PollUntil(
      [&] {
        absl::StatusOr<ParsedMetrics> m = ScrapeMetrics(http_port);
        if (!m.ok()) {
          last = m.status().ToString();
          return false;
        }
        metrics = std::move(*m);
        last = Dump(*metrics);
        if (metrics->Sum("kafka_sidecar_messages_processed_total") +
                metrics->Sum("kafka_sidecar_messages_failed_total") !=
            kMessages) {
          return false;
        }
        if (metrics->Get("kafka_sidecar_ready") != 1.0) return false;
        for (const auto& [p, end_offset] : *end) {
          if (metrics->Get("kafka_sidecar_partition_committed_offset", partition_labels(p)) !=
              static_cast<double>(end_offset)) {
            return false;
          }
          if (metrics->Get("kafka_sidecar_partition_lag", partition_labels(p)) != 0.0) {
            return false;
          }
        }
        return true;
      },
      absl::Minutes(1), absl::Milliseconds(250));
  ASSERT_TRUE(settled) << "last scrape:\n" << last;
  const ParsedMetrics& m = *metrics;
  SCOPED_TRACE(Dump(m));

  // Counters: per topic and (one topic) their sum.
  const MetricLabels t = {{"topic", topic}};
  EXPECT_EQ(m.Get("kafka_sidecar_messages_delivered_total", t), kMessages);
  EXPECT_EQ(m.Sum("kafka_sidecar_messages_delivered_total"), kMessages);
  EXPECT_EQ(m.Get("kafka_sidecar_messages_processed_total", t), kAcked);
  EXPECT_EQ(m.Sum("kafka_sidecar_messages_processed_total"), kAcked);
  EXPECT_EQ(m.Get("kafka_sidecar_messages_failed_total", t), kRejected);
  EXPECT_EQ(m.Get("kafka_sidecar_messages_retried_total", t), 0);
  EXPECT_EQ(m.Get("kafka_sidecar_messages_dead_lettered_total", t), 0);
  EXPECT_EQ(m.Get("kafka_sidecar_batches_delivered_total", t),
            static_cast<double>(handler.Snapshot().batches_received));
  EXPECT_EQ(m.Get("kafka_sidecar_stale_settlements_total"), 0);
  ASSERT_TRUE(m.Get("kafka_sidecar_rebalances_total").has_value());
  EXPECT_GE(*m.Get("kafka_sidecar_rebalances_total"), 1);

  // The processing-time histogram counts ACKed messages.
  EXPECT_EQ(m.Get("kafka_sidecar_processing_time_seconds_count"), kAcked);
  EXPECT_EQ(m.Get("kafka_sidecar_processing_time_seconds_bucket", {{"le", "+Inf"}}), kAcked);
  ASSERT_TRUE(m.Get("kafka_sidecar_processing_time_seconds_sum").has_value());
  EXPECT_GT(*m.Get("kafka_sidecar_processing_time_seconds_sum"), 0);
  const std::vector<MetricSample> buckets = m.All("kafka_sidecar_processing_time_seconds_bucket");
  EXPECT_EQ(buckets.size(), 16u);  // 15 bounds and +Inf
  for (size_t i = 1; i < buckets.size(); ++i) {
    EXPECT_LE(buckets[i - 1].value, buckets[i].value) << "buckets not cumulative at " << i;
  }

  // Gauges.
  EXPECT_EQ(m.Get("kafka_sidecar_up"), 1);
  EXPECT_EQ(m.Get("kafka_sidecar_ready"), 1);
  EXPECT_EQ(m.Get("kafka_sidecar_connected_streams"), 1);
  EXPECT_EQ(m.Get("kafka_sidecar_assigned_partitions"), kPartitions);
  EXPECT_EQ(m.Get("kafka_sidecar_paused_partitions"), 0);
  EXPECT_EQ(m.Get("kafka_sidecar_messages_in_flight"), 0);
  ASSERT_TRUE(m.Get("kafka_sidecar_uptime_seconds").has_value());
  EXPECT_GT(*m.Get("kafka_sidecar_uptime_seconds"), 0);
  for (const auto& [p, end_offset] : *end) {
    SCOPED_TRACE(absl::StrCat("partition ", p));
    EXPECT_EQ(m.Get("kafka_sidecar_partition_committed_offset", partition_labels(p)),
              end_offset);
    EXPECT_EQ(m.Get("kafka_sidecar_partition_in_flight", partition_labels(p)), 0);
    for (const char* cause : {"request", "error_threshold"}) {
      MetricLabels labels = partition_labels(p);
      labels["cause"] = cause;
      EXPECT_EQ(m.Get("kafka_sidecar_partition_paused", labels), 0) << cause;
    }
    EXPECT_EQ(m.Get("kafka_sidecar_partition_high_watermark", partition_labels(p)), end_offset);
    EXPECT_EQ(m.Get("kafka_sidecar_partition_lag", partition_labels(p)), 0);
  }
  EXPECT_EQ(m.All("kafka_sidecar_partition_in_flight").size(), static_cast<size_t>(kPartitions));

  // /stats: the same numbers, as GetStats JSON with the proto's names.
  absl::StatusOr<HttpResponse> stats = HttpGet(http_port, "/stats");
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->status, 200);
  EXPECT_EQ(stats->content_type, "application/json");
  v1::GetStatsResponse parsed;
  const auto json = google::protobuf::util::JsonStringToMessage(stats->body, &parsed);
  ASSERT_TRUE(json.ok()) << json.ToString() << "\n" << stats->body;
  EXPECT_EQ(parsed.messages_processed(), static_cast<uint64_t>(kAcked));
  EXPECT_EQ(parsed.messages_failed(), static_cast<uint64_t>(kRejected));
  EXPECT_EQ(parsed.messages_delivered(), static_cast<uint64_t>(kMessages));
  EXPECT_EQ(parsed.group_id(), group);
  EXPECT_EQ(parsed.partitions_size(), kPartitions);

  absl::StatusOr<HttpResponse> live = HttpGet(http_port, "/healthz");
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(live->status, 200) << live->body;
  absl::StatusOr<HttpResponse> ready = HttpGet(http_port, "/readyz");
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(ready->status, 200) << ready->body;

  absl::StatusOr<int> exit_code = sidecar->Terminate(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

}  // namespace
}  // namespace kafka_sidecar::testing
