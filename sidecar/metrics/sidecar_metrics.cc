#include "sidecar/metrics/sidecar_metrics.h"

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar {
namespace {

constexpr char kPrefix[] = "kafka_sidecar_";

MetricFamily Family(const std::string& name, MetricType type, std::string help) {
  MetricFamily f;
  f.name = absl::StrCat(kPrefix, name);
  f.type = type;
  f.help = std::move(help);
  return f;
}

MetricFamily Gauge(const std::string& name, std::string help, double value) {
  MetricFamily f = Family(name, MetricType::kGauge, std::move(help));
  f.samples.push_back(Sample{{}, value});
  return f;
}

MetricFamily Counter(const std::string& name, std::string help, double value) {
  MetricFamily f = Family(name, MetricType::kCounter, std::move(help));
  f.samples.push_back(Sample{{}, value});
  return f;
}

// One sample per topic; the process-wide value is their sum.
MetricFamily TopicCounter(const std::string& name, std::string help,
                          const MetricsSnapshot& counters,
                          uint64_t TopicCounters::*field) {
  MetricFamily f = Family(name, MetricType::kCounter, std::move(help));
  for (const auto& [topic, c] : counters.topics) {
    f.samples.push_back(Sample{{{"topic", topic}}, static_cast<double>(c.*field)});
  }
  return f;
}

Labels PartitionLabels(const v1::PartitionStats& p) {
  return {{"topic", p.topic()}, {"partition", absl::StrCat(p.partition())}};
}

}  // namespace

std::vector<MetricFamily> SidecarMetrics::Families(const v1::GetStatsResponse& stats,
                                                   const HealthStatus& health,
                                                   const MetricsSnapshot& counters) const {
  std::vector<MetricFamily> out;

  out.push_back(Gauge("up", "1 while the sidecar is live (what /healthz reports).",
                      health.live ? 1 : 0));
  out.push_back(Gauge("ready",
                      "1 while the sidecar is ready: Kafka reachable and the group joined "
                      "(what /readyz reports).",
                      health.ready ? 1 : 0));
  int stalled = 0;
  for (const HealthCheck& c : health.checks) {
    if (!c.ok && c.name.rfind("stalled:", 0) == 0) ++stalled;
  }
  out.push_back(Gauge("stalled_partitions",
                      "Partitions with lag and nothing delivered for "
                      "observability.stall_timeout_ms (not paused).",
                      stalled));
  {
    MetricFamily info = Family("info", MetricType::kGauge,
                               "Always 1; the labels name the versions, the consumer group "
                               "and its protocol.");
    info.samples.push_back(Sample{{{"version", KAFKA_SIDECAR_VERSION},
                                   {"librdkafka_version", stats.librdkafka_version()},
                                   {"group_id", stats.group_id()},
                                   {"group_protocol", stats.group_protocol()}},
                                  1});
    out.push_back(std::move(info));
  }
  out.push_back(Gauge("uptime_seconds", "Seconds since the sidecar started.",
                      stats.uptime_seconds()));

  out.push_back(TopicCounter("messages_delivered_total",
                             "Messages sent to handlers in batches, redeliveries included.",
                             counters, &TopicCounters::messages_delivered));
  out.push_back(TopicCounter("batches_delivered_total", "Batches sent to handlers.", counters,
                             &TopicCounters::batches_delivered));
  out.push_back(TopicCounter("messages_processed_total", "Messages settled with ACK.", counters,
                             &TopicCounters::messages_processed));
  out.push_back(TopicCounter("messages_failed_total",
                             "Messages given up: rejected, or out of retries.", counters,
                             &TopicCounters::messages_failed));
  out.push_back(TopicCounter("messages_retried_total",
                             "Message retries scheduled (RETRY settlements and ack timeouts).",
                             counters, &TopicCounters::messages_retried));
  out.push_back(TopicCounter("messages_dead_lettered_total",
                             "Failed messages written to the dead-letter topic.", counters,
                             &TopicCounters::messages_dead_lettered));
  {
    MetricFamily f = Family("dead_letter_produce_failures_total", MetricType::kCounter,
                            "Dead-letter produces Kafka refused, by kind: transient (retried "
                            "with backoff) or permanent (the partition pauses, or the message "
                            "is skipped under processing.dead_letter_on_permanent_failure: "
                            "skip).");
    for (const auto& [topic, c] : counters.topics) {
      f.samples.push_back(Sample{{{"topic", topic}, {"kind", "transient"}},
                                 static_cast<double>(c.dead_letter_transient_failures)});
      f.samples.push_back(Sample{{{"topic", topic}, {"kind", "permanent"}},
                                 static_cast<double>(c.dead_letter_permanent_failures)});
    }
    out.push_back(std::move(f));
  }
  out.push_back(TopicCounter("messages_dead_letter_skipped_total",
                             "Failed messages skipped because the dead-letter topic refused "
                             "them for good (processing.dead_letter_on_permanent_failure: skip).",
                             counters, &TopicCounters::messages_dead_letter_skipped));
  out.push_back(Counter("messages_first_delivered_total",
                        "Messages delivered for the first time by this sidecar.",
                        static_cast<double>(stats.messages_first_delivered())));
  {
    MetricFamily f = Family("messages_redelivered_total", MetricType::kCounter,
                            "Messages delivered again, by cause: retry (settled RETRY), "
                            "ack_timeout, rewind (later messages taken back by an earlier "
                            "retry under ordering: partition), stream_lost, and rebalance "
                            "(unsettled when the partition was revoked; its next owner "
                            "delivers them).");
    const v1::Redeliveries& r = stats.redeliveries();
    for (const auto& [cause, n] : {std::pair<const char*, uint64_t>{"retry", r.retry()},
                                   {"ack_timeout", r.ack_timeout()},
                                   {"rewind", r.rewind()},
                                   {"stream_lost", r.stream_lost()},
                                   {"rebalance", r.rebalance()}}) {
      f.samples.push_back(Sample{{{"cause", cause}}, static_cast<double>(n)});
    }
    out.push_back(std::move(f));
  }
  out.push_back(Counter("stale_settlements_total",
                        "Settlements ignored: unknown batch, offset not in it, already settled "
                        "or no outcome.",
                        static_cast<double>(stats.stale_settlements())));
  out.push_back(Counter("rebalances_total", "Consumer group rebalances (assign and revoke).",
                        static_cast<double>(stats.rebalances())));

  {
    MetricFamily h = Family("processing_time_seconds", MetricType::kHistogram,
                            "Time from a batch being sent to a message's ACK, per ACKed message.");
    HistogramSample s;
    s.upper_bounds = counters.processing_seconds.upper_bounds;
    s.counts = counters.processing_seconds.counts;
    s.sum = counters.processing_seconds.sum;
    h.histograms.push_back(std::move(s));
    out.push_back(std::move(h));
  }

  out.push_back(Gauge("messages_in_flight", "Messages sent to handlers and not settled yet.",
                      static_cast<double>(stats.messages_in_flight())));
  out.push_back(Gauge("connected_streams", "Handler streams connected now.",
                      static_cast<double>(stats.streams_size())));
  out.push_back(Gauge("assigned_partitions", "Partitions assigned to this sidecar now.",
                      static_cast<double>(stats.partitions_size())));
  int paused = 0;
  for (const v1::PartitionStats& p : stats.partitions()) paused += p.paused() ? 1 : 0;
  out.push_back(Gauge("paused_partitions",
                      "Assigned partitions paused by request, by the error threshold, or by "
                      "a dead-letter topic that refuses their records.",
                      paused));

  if (static_cast<size_t>(stats.partitions_size()) > max_partition_series_) {
    if (!cap_logged_.exchange(true)) {
      spdlog::warn("metrics: {} partitions assigned, more than {}: per-partition metrics are "
                   "left out, totals only",
                   stats.partitions_size(), max_partition_series_);
    }
    return out;
  }
  MetricFamily lag = Family("partition_lag", MetricType::kGauge,
                            "Messages between the group's committed offset and the log end; "
                            "present once the broker has reported the partition's high "
                            "watermark.");
  MetricFamily high = Family("partition_high_watermark", MetricType::kGauge,
                             "The partition's log end offset as the broker last reported it; "
                             "present once reported.");
  MetricFamily committed = Family("partition_committed_offset", MetricType::kGauge,
                                  "The group's committed offset (next offset to read); present "
                                  "once there is one.");
  MetricFamily in_flight = Family("partition_in_flight", MetricType::kGauge,
                                  "The partition's messages sent to a handler and not settled.");
  // One series per cause, always present, so that a cause's series stays
  // the same over time (avg_over_time and `for:` in alerts need that).
  MetricFamily part_paused = Family("partition_paused", MetricType::kGauge,
                                    "1 while the partition is paused for this cause: "
                                    "cause=\"request\" (PausePartitions), "
                                    "cause=\"error_threshold\", or cause=\"dead_letter\" "
                                    "(the dead-letter topic refuses its records for good).");
  for (const v1::PartitionStats& p : stats.partitions()) {
    const Labels labels = PartitionLabels(p);
    // GetStats has no "unknown" for these (proto3 scalars): a high
    // watermark of 0 is either not reported yet or an empty partition, and
    // neither has a lag worth a series.
    if (p.high_watermark() > 0) {
      high.samples.push_back(Sample{labels, static_cast<double>(p.high_watermark())});
      lag.samples.push_back(Sample{labels, static_cast<double>(p.lag())});
    }
    if (p.committed_offset() >= 0) {
      committed.samples.push_back(Sample{labels, static_cast<double>(p.committed_offset())});
    }
    in_flight.samples.push_back(Sample{labels, static_cast<double>(p.in_flight())});
    for (const auto& [cause, label] : {std::pair{v1::PAUSE_CAUSE_REQUEST, "request"},
                                       std::pair{v1::PAUSE_CAUSE_ERROR_THRESHOLD,
                                                 "error_threshold"},
                                       std::pair{v1::PAUSE_CAUSE_DEAD_LETTER, "dead_letter"}}) {
      Labels with_cause = labels;
      with_cause.emplace_back("cause", label);
      part_paused.samples.push_back(
          Sample{std::move(with_cause), p.paused() && p.pause_cause() == cause ? 1.0 : 0.0});
    }
  }
  out.push_back(std::move(lag));
  out.push_back(std::move(high));
  out.push_back(std::move(committed));
  out.push_back(std::move(in_flight));
  out.push_back(std::move(part_paused));
  return out;
}

}  // namespace kafka_sidecar
