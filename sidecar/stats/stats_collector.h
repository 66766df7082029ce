// Assembles the complete GetStats snapshot (SPEC §2): process-wide counters
// from SidecarStats, per-partition state published by the dispatchers, the
// broker's view (high watermark, committed offset) from the Kafka consumer,
// and the connected streams from the coordinator.
#pragma once

#include <string>

#include "sidecar/common/clock.h"
#include "sidecar/coordinator/coordinator.h"
#include "sidecar/kafka/kafka_partition_view.h"
#include "sidecar/stats/sidecar_stats.h"
#include "sidecar/stats/stats_source.h"

namespace kafka_sidecar {

// What a snapshot says about the sidecar itself.
struct StatsIdentity {
  std::string group_id;
  std::string group_protocol;  // kafka.group_protocol
};

class StatsCollector final : public StatsSource {
 public:
  // `kafka` may be null (no broker view: lag and watermark stay unset).
  StatsCollector(StatsIdentity identity, const SidecarStats* stats, const Coordinator* coordinator,
                 const KafkaPartitionView* kafka, const Clock& clock);

  v1::GetStatsResponse Collect() const override;

 private:
  const StatsIdentity identity_;
  const std::string librdkafka_version_;
  const SidecarStats* const stats_;
  const Coordinator* const coordinator_;
  const KafkaPartitionView* const kafka_;
  const Clock& clock_;
};

}  // namespace kafka_sidecar
