// The HTTP admin endpoint on server.http_listen (SPEC §5), apart from gRPC:
//   GET /metrics  Prometheus text format 0.0.4
//   GET /healthz  200 while live, else 503
//   GET /readyz   200 while ready (Kafka reachable, group joined), else 503
//   GET /stats    the GetStats response as JSON with the proto's field names
// Other paths answer 404, other methods 405 (admin_routes.h). Handlers only
// read snapshots (StatsSource, HealthSource, MetricsSource never wait on
// Kafka or a dispatcher), so one thread serves every connection from an
// event loop: a client that is slow, idle or hostile costs a socket and a
// bounded buffer, never a thread, and cannot delay a probe. What a client
// can hold is bounded by AdminServerOptions.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sidecar/health/health_status.h"
#include "sidecar/stats/metrics_source.h"
#include "sidecar/stats/stats_source.h"

namespace kafka_sidecar {

// Limits on the endpoint's clients; the defaults are the production values
// (README, "Limits on the admin endpoint"). Tests shorten the deadlines.
struct AdminServerOptions {
  // From accept until the request line and all headers have arrived,
  // however steadily they trickle in; then the connection is closed.
  absl::Duration request_deadline = absl::Seconds(10);
  // From accept until the answer is sent: a client reading a large /metrics
  // very slowly gives its connection back.
  absl::Duration connection_deadline = absl::Seconds(60);
  // A connection on which nothing moves either way for this long is closed
  // (whole seconds, at least 1).
  absl::Duration idle_timeout = absl::Seconds(5);
  // Connections open at once (at least 2). When a new one takes the last
  // slot, the oldest connection of the address holding the most is closed,
  // so the next client (a probe) always finds room.
  size_t max_connections = 64;
  // Memory per connection for the request line, the headers and the
  // library's bookkeeping. A request that does not fit is answered 431 (414
  // for a long URL) and the connection closed. One request per connection.
  size_t connection_memory_bytes = 16 * 1024;
};

class AdminServer {
 public:
  // Binds `listen` ("host:port", port 0 = any free one) and serves until
  // Stop(). The sources must outlive the server.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(
      const std::string& listen, const StatsSource& stats, const HealthSource& health,
      const MetricsSource& metrics, const AdminServerOptions& options = AdminServerOptions());

  // Stops it if still running.
  virtual ~AdminServer() = default;

  // The bound port (the real one when 0 was asked).
  virtual int port() const = 0;
  // "host:port" as bound, for logs and clients.
  virtual const std::string& address() const = 0;
  // Finishes the request being handled, then closes the listener and every
  // connection. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace kafka_sidecar
