// The seed's stats reporter: one info line every stats_interval_ms with the
// numbers an operator looks at first, so a log search shows throughput, lag
// and errors over time without a metrics stack.
#pragma once

#include <string>

#include "kafka_sidecar/v1/sidecar.pb.h"

namespace kafka_sidecar {

// "stats: processed=… failed=… …" from a snapshot; pure, for tests.
std::string FormatStatsLine(const v1::GetStatsResponse& stats);

}  // namespace kafka_sidecar
