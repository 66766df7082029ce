// Process logging: spdlog to stderr, as text or JSON lines.
#pragma once

#include "absl/status/status.h"
#include "sidecar/config/config.h"

namespace kafka_sidecar {

absl::Status SetUpLogging(const ObservabilityConfig& config);

}  // namespace kafka_sidecar
