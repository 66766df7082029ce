// Kafka as one dispatcher sees it: a queue into which librdkafka forwards
// the records of the partitions that dispatcher owns, and the per-partition
// operations it may perform. Interfaces so dispatcher logic can be tested
// without a broker.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "sidecar/common/topic_partition.h"
#include "sidecar/common/wakeable.h"
#include "sidecar/kafka/record.h"

namespace kafka_sidecar {

struct FetchedRecord {
  // Valid while `record` lives.
  std::string_view topic;
  int32_t partition = 0;
  Record record;
};

class DispatchQueue : public Wakeable {
 public:
  // Appends up to `max` records to `out`, waiting up to `timeout` for the
  // first; returns early when woken. Returns whether the queue was idle:
  // nothing was queued when called, so batches that are not full should go
  // out now rather than wait to fill. Records found already queued mean the
  // dispatcher is behind, and fuller batches cost the handler less.
  virtual bool Consume(std::chrono::milliseconds timeout, size_t max,
                       std::vector<FetchedRecord>* out) = 0;
};

class PartitionControl {
 public:
  virtual ~PartitionControl() = default;
  // Stores `next_offset` (last settled + 1) for the next commit.
  virtual absl::Status StoreOffset(const TopicPartition& tp, int64_t next_offset) = 0;
  // Stops / restarts fetching. Resume restarts at `from` (the offset after
  // the last record the dispatcher received) when given: the dispatcher
  // says where it left off rather than trust librdkafka's fetch position
  // across a batch consume (librdkafka before 2.1.0 could skip records there).
  virtual absl::Status Pause(const TopicPartition& tp) = 0;
  virtual absl::Status Resume(const TopicPartition& tp, std::optional<int64_t> from) = 0;
};

}  // namespace kafka_sidecar
