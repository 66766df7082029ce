// Watches the sidecar and concludes, every health_check_interval_ms, whether
// it is live and ready (HealthStatus): Kafka reachable, consumer group
// joined, every dispatcher loop turning, no partition stalled, none paused
// by a dead-letter topic that refuses its records (readiness only). Restarts a
// dispatcher whose loop failed. Logs each change once.
//
// A hung dispatcher (its loop stuck inside a call) cannot be taken over
// safely in-process: it still owns its partitions' state. It turns liveness
// false instead, so the orchestrator restarts the container, and Kafka
// redelivers from the last commit.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sidecar/common/clock.h"
#include "sidecar/common/mutex.h"
#include "sidecar/common/topic_partition.h"
#include "sidecar/dispatch/dispatcher.h"
#include "sidecar/health/health_status.h"
#include "sidecar/kafka/kafka_partition_view.h"
#include "sidecar/stats/stats_source.h"

namespace kafka_sidecar {

struct HealthMonitorOptions {
  // A partition with lag and no delivery for this long is stalled; a
  // dispatcher without progress for this long is hung; Kafka unreachable for
  // this long fails liveness.
  Millis stall_timeout{60000};
  // No broker reached since start for this long is a start-up failure
  // (StartupFailure()); 0 = never.
  Millis startup_timeout{0};
  std::string group_id;
  std::string bootstrap_servers;  // named in the start-up failure
  // Readiness checks of other components (e.g. the listener's socket
  // watch), run at every check: each appends its HealthChecks, and any
  // failing one makes the sidecar not ready. Empty = none.
  std::function<void(std::vector<HealthCheck>*)> readiness_checks;
};

class HealthMonitor final : public HealthSource {
 public:
  // Called on the checking thread whenever live or ready changes (and after
  // the first check).
  using OnChange = std::function<void(const HealthStatus&)>;

  HealthMonitor(HealthMonitorOptions options, const Clock& clock, const KafkaPartitionView* kafka,
                const StatsSource* stats, std::vector<Dispatcher*> dispatchers, OnChange on_change);

  HealthStatus Current() const override;

  // One check; the app calls it periodically, tests call it directly.
  HealthStatus Check();

  uint64_t dispatcher_restarts() const;

  // Shutdown has begun: not ready from now on (checks are no longer run).
  void MarkDraining();

  // Set by a check once no broker has been reached for startup_timeout
  // since start, and kept: what the process should exit with.
  std::optional<std::string> StartupFailure() const;

 private:
  struct Progress {
    uint64_t delivered = 0;
    MonoTime since;
  };

  HealthCheck CheckKafka(MonoTime now, const BrokerConnectivity& c, bool* live);
  HealthCheck CheckGroup(const BrokerConnectivity& c);
  HealthCheck CheckDispatcher(MonoTime now, Dispatcher& d, bool* live, bool* ready);
  void CheckStalls(MonoTime now, const v1::GetStatsResponse& stats, std::vector<HealthCheck>* out);
  // One failing check per partition paused by a refused dead letter; false
  // if there is any.
  static bool CheckDeadLetterPauses(const v1::GetStatsResponse& stats,
                                    std::vector<HealthCheck>* out);

  const HealthMonitorOptions options_;
  const Clock& clock_;
  const KafkaPartitionView* const kafka_;
  const StatsSource* const stats_;
  const std::vector<Dispatcher*> dispatchers_;
  const OnChange on_change_;
  const MonoTime started_;

  // Checking thread only.
  std::map<TopicPartition, Progress> progress_;
  std::set<TopicPartition> stalled_;
  std::set<std::string> failing_;  // names of checks not ok at the last check
  bool first_ = true;

  mutable Mutex mu_;
  HealthStatus current_ ABSL_GUARDED_BY(mu_);
  uint64_t restarts_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<std::string> startup_failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kafka_sidecar
