// The broker's view of the assigned partitions, as librdkafka last reported
// it in its statistics: high watermark and committed offset per partition,
// and whether any broker connection is up. Read by stats and health from any
// thread; never makes a broker round trip.
#pragma once

#include <cstdint>
#include <optional>

#include "sidecar/common/clock.h"
#include <string>

#include "sidecar/common/topic_partition.h"

namespace kafka_sidecar {

struct PartitionOffsets {
  int64_t low_watermark = -1;     // -1 = not known yet
  int64_t high_watermark = -1;
  int64_t committed_offset = -1;  // -1 = nothing committed for the group
};

struct BrokerConnectivity {
  bool any_broker_up = false;
  // When a broker connection was last seen up; nullopt = never.
  std::optional<MonoTime> last_up;
  // The consumer group is joined (an assignment was received and not lost).
  bool group_joined = false;
  // Set when librdkafka reported a fatal or authentication error; the words
  // are librdkafka's, without secrets.
  std::string last_error;
};

class KafkaPartitionView {
 public:
  virtual ~KafkaPartitionView() = default;
  virtual std::optional<PartitionOffsets> Offsets(const TopicPartition& tp) const = 0;
  virtual BrokerConnectivity Connectivity() const = 0;
};

}  // namespace kafka_sidecar
