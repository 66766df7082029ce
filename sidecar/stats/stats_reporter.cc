#include "sidecar/stats/stats_reporter.h"

#include "absl/strings/str_format.h"

namespace kafka_sidecar {

std::string FormatStatsLine(const v1::GetStatsResponse& s) {
  int64_t lag = 0;
  int paused = 0;
  for (const v1::PartitionStats& p : s.partitions()) {
    lag += p.lag();
    if (p.paused()) ++paused;
  }
  return absl::StrFormat(
      "stats: processed=%d failed=%d retried=%d dead_lettered=%d delivered=%d in_flight=%d "
      "rate=%.1f/s recent_rate=%.1f/s avg_ms=%.2f p99_ms=%.2f error_rate=%.2f%% "
      "partitions=%d paused=%d lag=%d streams=%d rebalances=%d uptime_s=%.0f",
      s.messages_processed(), s.messages_failed(), s.messages_retried(),
      s.messages_dead_lettered(), s.messages_delivered(), s.messages_in_flight(),
      s.processing_rate_per_second(), s.recent_processing_rate_per_second(),
      s.average_processing_time_ms(), s.processing_time_p99_ms(), s.error_rate_percent(),
      s.partitions_size(), paused, lag, s.streams_size(), s.rebalances(), s.uptime_seconds());
}

}  // namespace kafka_sidecar
