// The HTTP admin endpoint on server.http_listen (SPEC §5), apart from gRPC:
//   GET /metrics  Prometheus text format 0.0.4
//   GET /healthz  200 while live, else 503
//   GET /readyz   200 while ready (Kafka reachable, group joined), else 503
//   GET /stats    the GetStats response as JSON with the proto's field names
// Other paths answer 404, other methods 405. Handlers only read snapshots
// (StatsSource, HealthSource, MetricsSource never wait on Kafka or a
// dispatcher), on a small fixed pool of threads.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "sidecar/health/health_status.h"
#include "sidecar/stats/metrics_source.h"
#include "sidecar/stats/stats_source.h"

namespace kafka_sidecar {

class AdminServer {
 public:
  // Binds `listen` ("host:port", port 0 = any free one) and serves until
  // Stop(). The sources must outlive the server.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(const std::string& listen,
                                                            const StatsSource& stats,
                                                            const HealthSource& health,
                                                            const MetricsSource& metrics);

  // Stops it if still running.
  virtual ~AdminServer() = default;

  // The bound port (the real one when 0 was asked).
  virtual int port() const = 0;
  // "host:port" as bound, for logs and clients.
  virtual const std::string& address() const = 0;
  // Closes the listener and waits for requests in progress. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace kafka_sidecar
