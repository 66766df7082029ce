// What the health monitor concluded at its last check, as the HTTP admin
// endpoint (/healthz, /readyz), the gRPC health service and /metrics show it.
#pragma once

#include <string>
#include <vector>

namespace kafka_sidecar {

struct HealthCheck {
  std::string name;    // "kafka", "group", "dispatcher-0", "stalled:orders/3"
  bool ok = true;
  std::string detail;  // why not ok, in words an operator can act on
};

struct HealthStatus {
  // Live: the process makes progress (no hung dispatcher, Kafka not
  // unreachable for longer than stall_timeout_ms). A failing liveness probe
  // restarts the container, so only what a restart can cure turns it false.
  bool live = true;
  // Ready: Kafka reachable and the consumer group joined.
  bool ready = false;
  std::vector<HealthCheck> checks;
};

// Implemented by the health monitor; any thread, never blocks on Kafka.
class HealthSource {
 public:
  virtual ~HealthSource() = default;
  virtual HealthStatus Current() const = 0;
};

}  // namespace kafka_sidecar
