// The sidecar's Prometheus metrics (README "Metrics and health endpoints"):
// families built from a GetStats snapshot, the health status and the
// monotonic per-topic counters and histogram.
//
// Labels stay bounded: `topic` (the topics consumed) and `topic`+`partition`
// for the partitions assigned now; never stream ids or handler names, which
// change with every reconnect. Past `max_partition_series` assigned
// partitions the per-partition gauges are left out and only the totals are
// exported, so one sidecar on a huge topic cannot flood Prometheus.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include "kafka_sidecar/v1/sidecar.pb.h"
#include "sidecar/health/health_status.h"
#include "sidecar/metrics/prometheus_text.h"
#include "sidecar/stats/metrics_source.h"

namespace kafka_sidecar {

inline constexpr size_t kMaxPartitionSeries = 10000;

class SidecarMetrics {
 public:
  explicit SidecarMetrics(size_t max_partition_series = kMaxPartitionSeries)
      : max_partition_series_(max_partition_series) {}

  std::vector<MetricFamily> Families(const v1::GetStatsResponse& stats,
                                     const HealthStatus& health,
                                     const MetricsSnapshot& counters) const;

  // The exposition text (Content-Type kPrometheusContentType).
  std::string Render(const v1::GetStatsResponse& stats, const HealthStatus& health,
                     const MetricsSnapshot& counters) const {
    return RenderPrometheusText(Families(stats, health, counters));
  }

 private:
  const size_t max_partition_series_;
  // The cap is logged once per process life, not on every scrape.
  mutable std::atomic<bool> cap_logged_{false};
};

}  // namespace kafka_sidecar
