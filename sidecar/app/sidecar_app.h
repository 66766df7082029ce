// Wires the sidecar together and runs its life cycle: start (gRPC server,
// dispatchers, Kafka subscription) and graceful shutdown (stop fetching,
// drain, commit, leave the group).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "sidecar/admin/admin_server.h"
#include "sidecar/common/clock.h"
#include "sidecar/common/mutex.h"
#include "sidecar/common/random.h"
#include "sidecar/config/config.h"
#include "sidecar/coordinator/coordinator.h"
#include "sidecar/deadletter/dead_letter_producer_impl.h"
#include "sidecar/dispatch/dispatcher_impl.h"
#include "sidecar/common/periodic.h"
#include "sidecar/health/health_monitor.h"
#include "sidecar/health/health_status.h"
#include "sidecar/kafka/kafka_consumer_impl.h"
#include "sidecar/server/grpc_listener.h"
#include "sidecar/server/socket_watch.h"
#include "sidecar/server/sidecar_service.h"
#include "sidecar/stats/sidecar_stats.h"
#include "sidecar/stats/stats_collector.h"

namespace kafka_sidecar {

// Builds the librdkafka configuration of every client SidecarApp::Create
// makes (the consumer; the dead-letter producer when
// processing.dead_letter_topic is set) with the code Create uses, then throws
// it away: no client is created and nothing connects. For --validate, which
// would otherwise accept a kafka.properties entry that start-up refuses.
// Checks librdkafka makes only when it creates a client (between
// properties, or of files they name) are still start-up's.
absl::Status CheckKafkaClientConfigs(const Config& config);

class SidecarApp {
 public:
  // `on_fatal` (may be empty) is called once, on a background thread, when
  // the sidecar cannot go on (fatal_error() says why); the owner then shuts
  // it down and exits non-zero. It must not block.
  static absl::StatusOr<std::unique_ptr<SidecarApp>> Create(
      const Config& config, std::function<void()> on_fatal = nullptr);
  ~SidecarApp();

  // Starts serving; the gRPC listener is bound when this returns.
  absl::Status Start();
  // SPEC §3 shutdown. Safe to call once.
  absl::Status Shutdown();

  // The address handlers connect to (with the real port when 0 was asked).
  const std::string& grpc_address() const { return grpc_address_; }
  // The HTTP admin endpoint's port (the real one when 0 was asked); 0 when
  // server.http_listen is empty.
  int admin_port() const { return admin_ != nullptr ? admin_->port() : 0; }
  SidecarStats& stats() { return stats_; }
  // OK until on_fatal was called; then why: e.g. no Kafka broker reached
  // within kafka.startup_timeout_ms.
  absl::Status fatal_error() const {
    MutexLock l(&fatal_mu_);
    return fatal_;
  }
  const StatsSource& stats_source() const { return *stats_collector_; }
  // What grpc.health.v1 reports: SERVING from Start() until told otherwise,
  // NOT_SERVING from Shutdown() on. Thread-safe once Start() has returned.
  void SetGrpcServing(bool serving) {
    if (listener_ != nullptr) listener_->SetServing(serving);
    if (operator_listener_ != nullptr) operator_listener_->SetServing(serving);
  }

 private:
  explicit SidecarApp(const Config& config);
  // server.operator_listen, when set.
  absl::Status StartOperatorListener();

  const Config config_;
  RealClock clock_;
  SidecarStats stats_;
  std::unique_ptr<KafkaConsumerImpl> consumer_;
  std::vector<std::unique_ptr<RandomImpl>> randoms_;  // one per dispatcher
  std::vector<std::unique_ptr<DispatcherImpl>> dispatchers_;
  std::unique_ptr<DeadLetterProducerImpl> dead_letters_;  // null = no topic
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<StatsCollector> stats_collector_;
  std::unique_ptr<SidecarService> service_;
  std::unique_ptr<GrpcListener> listener_;
  // server.operator_listen's service and listener; null when not set.
  std::unique_ptr<SidecarService> operator_service_;
  std::unique_ptr<GrpcListener> operator_listener_;
  // One per Unix socket listener; read by the health monitor's thread.
  std::vector<std::unique_ptr<UnixSocketWatch>> socket_watches_;
  std::string grpc_address_;
  bool started_ = false;
  bool shut_down_ = false;
  std::function<void()> on_fatal_;
  mutable Mutex fatal_mu_;
  absl::Status fatal_ ABSL_GUARDED_BY(fatal_mu_);
  // What /healthz, /readyz, /metrics and gRPC health report.
  std::unique_ptr<HealthMonitor> health_monitor_;
  // Threads that read everything above: stopped before any of it goes.
  Periodic health_checks_;
  Periodic stats_lines_;
  // Last, so it is destroyed first: it reads the collector, stats and health.
  std::unique_ptr<AdminServer> admin_;
};

}  // namespace kafka_sidecar
