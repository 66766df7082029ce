// The sidecar's Kafka group member: subscribes, serves rebalances and
// errors on its control thread, commits stored offsets, and hands each
// dispatcher a queue its partitions' records are forwarded to.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "sidecar/kafka/dispatch_queue.h"

namespace kafka_sidecar {

class Coordinator;

class KafkaConsumer : public PartitionControl {
 public:
  // One queue per dispatcher, valid for the consumer's life.
  virtual std::vector<DispatchQueue*> queues() = 0;
  // Subscribes and starts the control thread; rebalances go to `coordinator`.
  virtual absl::Status Start(Coordinator* coordinator) = 0;
  // Stops fetching every assigned partition (shutdown).
  virtual void PauseAll() = 0;
  // Commits, leaves the group, stops the control thread.
  virtual absl::Status Close() = 0;
};

}  // namespace kafka_sidecar
