// Reads librdkafka's statistics JSON (emitted every statistics.interval.ms,
// see librdkafka's STATISTICS.md) into the few facts the sidecar reports:
// per-partition watermarks and committed offsets, broker connection states
// and the consumer group's join state.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "sidecar/common/topic_partition.h"
#include "sidecar/kafka/kafka_partition_view.h"

namespace kafka_sidecar {

struct RdKafkaStatistics {
  // Partitions the consumer wants (assigned); offsets librdkafka does not
  // know yet are -1.
  std::map<TopicPartition, PartitionOffsets> partitions;
  // Brokers with an open connection ("UP"), and all brokers listed.
  int brokers_up = 0;
  int brokers = 0;
  // cgrp.state / cgrp.join_state; "up" and "steady" when joined.
  std::string group_state;
  std::string join_state;
};

absl::StatusOr<RdKafkaStatistics> ParseRdKafkaStatistics(std::string_view json);

}  // namespace kafka_sidecar
