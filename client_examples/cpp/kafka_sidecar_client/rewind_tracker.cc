#include "kafka_sidecar_client/rewind_tracker.h"

namespace kafka_sidecar_client {

uint64_t RewindTracker::Received() {
  std::lock_guard<std::mutex> lock(mu_);
  return ++received_;
}

void RewindTracker::Retried(const std::string& topic, int32_t partition, int64_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  rewinds_[{topic, partition}] = Rewind{received_, offset};
}

bool RewindTracker::TakenBack(const ::kafka_sidecar::v1::Batch& batch, uint64_t sequence) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = rewinds_.find({batch.topic(), batch.partition()});
  if (it == rewinds_.end()) return false;
  if (sequence > it->second.received_through) {
    // A partition's batches are handled in the order received: no batch
    // still to come can be one the rewind took back.
    rewinds_.erase(it);
    return false;
  }
  return batch.messages_size() > 0 && batch.messages(0).offset() > it->second.offset;
}

}  // namespace kafka_sidecar_client
