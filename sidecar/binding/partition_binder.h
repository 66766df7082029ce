// Decides which stream each assigned partition is bound to (SPEC §3): every
// partition to exactly one stream whose topics include it, shares balanced,
// existing bindings kept where balance allows so few partitions move. Pure
// logic, no threads.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sidecar/common/topic_partition.h"

namespace kafka_sidecar {

struct BinderStream {
  std::string id;
  std::vector<std::string> topics;  // empty = every topic
};

// `current` maps each assigned partition to its stream id ("" = unbound).
// Returns the new binding for the same partitions ("" where no stream takes
// the partition's topic).
std::map<TopicPartition, std::string> ComputeBindings(
    const std::map<TopicPartition, std::string>& current, const std::vector<BinderStream>& streams);

}  // namespace kafka_sidecar
