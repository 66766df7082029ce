// The identity of a partition, used as a map key across components.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"

namespace kafka_sidecar {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;

  // "<topic>/<partition>", the key SPEC §2 uses for partition_errors.
  std::string ToString() const { return absl::StrCat(topic, "/", partition); }

  friend bool operator==(const TopicPartition& a, const TopicPartition& b) {
    return a.partition == b.partition && a.topic == b.topic;
  }
  friend bool operator!=(const TopicPartition& a, const TopicPartition& b) { return !(a == b); }
  friend bool operator<(const TopicPartition& a, const TopicPartition& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  }
  template <typename H>
  friend H AbslHashValue(H h, const TopicPartition& tp) {
    return H::combine(std::move(h), tp.topic, tp.partition);
  }
};

}  // namespace kafka_sidecar
