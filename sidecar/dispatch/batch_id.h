// Batch ids carry the index of the dispatcher that issued them, so a
// settlement is routed without any shared lookup table, and a per-dispatcher
// sequence keeps them unique for the life of the process.
#pragma once

#include <cstdint>

namespace kafka_sidecar {

inline constexpr int kDispatcherIndexBits = 10;
inline constexpr int kMaxDispatchers = 1 << kDispatcherIndexBits;

inline uint64_t MakeBatchId(uint64_t sequence, int dispatcher) {
  return (sequence << kDispatcherIndexBits) | static_cast<uint64_t>(dispatcher);
}

inline int DispatcherOfBatch(uint64_t batch_id) {
  return static_cast<int>(batch_id & (kMaxDispatchers - 1));
}

}  // namespace kafka_sidecar
