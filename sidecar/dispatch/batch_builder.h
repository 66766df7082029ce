// Builds the Batch response for records about to be sent: one arena per
// batch and a single copy of each key, value and header.
#pragma once

#include <cstdint>
#include <vector>

#include "sidecar/common/topic_partition.h"
#include "sidecar/dispatch/partition_state.h"
#include "sidecar/stream/outgoing.h"

namespace kafka_sidecar {

Outgoing BuildBatch(uint64_t batch_id, const TopicPartition& tp,
                    const std::vector<PendingRecord>& records);

}  // namespace kafka_sidecar
