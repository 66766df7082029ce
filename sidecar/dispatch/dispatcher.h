// A dispatcher thread owns a set of partitions: it reads their records from
// its Kafka queue, batches them per partition, sends batches to the streams
// the partitions are bound to, applies settlements and stores commit offsets.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "kafka_sidecar/v1/sidecar.pb.h"
#include "sidecar/common/clock.h"
#include "sidecar/common/wakeable.h"
#include "sidecar/dispatch/dispatcher_command.h"

namespace kafka_sidecar {

class Dispatcher : public Wakeable {
 public:
  virtual int index() const = 0;
  // Thread-safe, non-blocking.
  virtual void Post(DispatcherCommand command) = 0;
  virtual void Start() = 0;
  // Stops the thread; partitions still held are dropped without commits.
  virtual void Stop() = 0;
  // Partitions currently owned, for load balancing new assignments.
  virtual size_t partition_count() const = 0;
  // Per-partition stats as the dispatcher last published them (at most a
  // fraction of a second old); never waits for the dispatcher thread.
  virtual std::vector<v1::PartitionStats> PartitionStatsSnapshot() const = 0;

  // Supervision by the health monitor; any thread.
  // When the loop last started an iteration. An idle loop still turns every
  // 100 ms, so an old value means the thread is stuck.
  virtual MonoTime last_progress() const = 0;
  // Why the loop ended, when an unexpected error ended it.
  virtual std::optional<std::string> failure() const = 0;
  // Starts a loop that failed again. What was in flight is forgotten (late
  // settlements of it are stale) and every partition is fetched again from
  // its first unsettled offset, so nothing is lost; some messages may be
  // delivered twice. FailedPrecondition unless failure() is set.
  virtual absl::Status Restart() = 0;
};

}  // namespace kafka_sidecar
