// Sends messages that exhausted their retries, or that the handler rejected,
// to the dead-letter topic. A dead-lettered message counts as settled only
// once Kafka has acknowledged the produce (SPEC §3), so the result arrives
// asynchronously and the caller decides what to do with a failure.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "sidecar/common/topic_partition.h"
#include "sidecar/kafka/record.h"

namespace kafka_sidecar {

// Why and from where a message is dead-lettered; becomes headers on the
// dead-letter record beside the original ones.
struct DeadLetterInfo {
  TopicPartition source;
  uint32_t attempts = 0;  // deliveries to a handler
  std::string reason;
};

// Whether a failed produce cannot succeed by being tried again until an
// operator acts: the record is too large for the topic or invalid for it,
// the sidecar may not write the topic, the topic does not exist, or the
// producer failed for good. Everything else (timeouts, brokers away, a full
// local queue) is transient.
bool IsPermanentDeadLetterFailure(const absl::Status& status);

class DeadLetterProducer {
 public:
  // Runs once Kafka acknowledged the record (OK) or the produce failed (the
  // caller may try again; IsPermanentDeadLetterFailure tells whether that
  // can help): on the producer's own thread, or on the caller's
  // before Produce returns when the record cannot even be queued. Must not
  // block, nor take a lock the caller of Produce holds.
  using Done = std::function<void(absl::Status)>;

  virtual ~DeadLetterProducer() = default;

  // Copies what it needs from `record` before returning. `done` runs exactly
  // once, also when the produce cannot even be queued.
  virtual void Produce(const Record& record, const DeadLetterInfo& info, Done done) = 0;

  // Waits up to `timeout` for every outstanding produce to finish.
  virtual absl::Status Flush(std::chrono::milliseconds timeout) = 0;
};

}  // namespace kafka_sidecar
