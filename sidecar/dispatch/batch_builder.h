// Builds the Batch response for records about to be sent: one arena per
// batch and a single copy of each key, value and header.
#pragma once

#include <cstdint>

#include "sidecar/common/topic_partition.h"
#include "sidecar/dispatch/partition_state.h"
#include "sidecar/stream/outgoing.h"

namespace kafka_sidecar {

// Uses the first `n` pending records of `partition`.
Outgoing BuildBatch(uint64_t batch_id, const PartitionState& partition, size_t n);

}  // namespace kafka_sidecar
