// Where GetStats, GET /stats, /metrics and the stats reporter get a complete
// stats snapshot (SPEC §2) from. Any thread; never waits on a dispatcher.
#pragma once

#include "kafka_sidecar/v1/sidecar.pb.h"

namespace kafka_sidecar {

class StatsSource {
 public:
  virtual ~StatsSource() = default;
  virtual v1::GetStatsResponse Collect() const = 0;
};

}  // namespace kafka_sidecar
