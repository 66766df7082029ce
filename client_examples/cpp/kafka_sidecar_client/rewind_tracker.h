// Under `ordering: partition` a RETRY of offset X makes the sidecar take back
// every later message of the partition still out, and deliver it again after
// X. With processing.partition_workers > 1, later batches of the partition
// may already be queued here when the RETRY is settled: they are among those
// taken back, so handling them would repeat work the sidecar redelivers
// anyway, and settling them would only count as stale.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "kafka_sidecar/v1/sidecar.pb.h"

namespace kafka_sidecar_client {

class RewindTracker {
 public:
  // Every batch, in the order received; returns its sequence number.
  uint64_t Received();
  // A batch of `partition` is about to be settled RETRY at `offset`.
  void Retried(const std::string& topic, int32_t partition, int64_t offset);
  // Whether the sidecar took back this batch (received as `sequence`):
  // received before a RETRY of its partition was settled, and after it.
  // Only batches received before that Settle are judged so; anything later
  // may be the redelivery.
  bool TakenBack(const ::kafka_sidecar::v1::Batch& batch, uint64_t sequence);

 private:
  struct Rewind {
    uint64_t received_through = 0;  // the last batch received before the RETRY
    int64_t offset = 0;             // the retried offset
  };
  std::mutex mu_;
  uint64_t received_ = 0;                                      // guarded by mu_
  std::map<std::pair<std::string, int32_t>, Rewind> rewinds_;  // guarded by mu_
};

}  // namespace kafka_sidecar_client
