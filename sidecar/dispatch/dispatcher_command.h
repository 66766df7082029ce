// Messages other threads send to a dispatcher. The dispatcher thread is the
// only one that touches its partitions' state; everything else asks.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "sidecar/common/mutex.h"
#include "kafka_sidecar/v1/sidecar.pb.h"
#include "sidecar/common/topic_partition.h"

namespace kafka_sidecar {

class StreamSession;

// Collects the final commit offsets of revoked partitions; the control thread
// waits on it.
class RevokeResult {
 public:
  explicit RevokeResult(size_t expected) : remaining_(expected) {}
  void Done(const TopicPartition& tp, std::optional<int64_t> offset) {
    MutexLock l(&mu_);
    offsets_.emplace_back(tp, offset);
    if (--remaining_ == 0) all_done_.Notify();
  }
  bool WaitFor(absl::Duration timeout) { return all_done_.WaitForNotificationWithTimeout(timeout); }
  std::vector<std::pair<TopicPartition, std::optional<int64_t>>> offsets() {
    MutexLock l(&mu_);
    return offsets_;
  }

 private:
  Mutex mu_;
  size_t remaining_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<TopicPartition, std::optional<int64_t>>> offsets_ ABSL_GUARDED_BY(mu_);
  Notification all_done_;
};

namespace cmd {

struct Assign {
  TopicPartition tp;
};
struct Revoke {
  TopicPartition tp;
  std::shared_ptr<RevokeResult> result;
  // How long to wait for in-flight settlements before giving up on them.
  std::chrono::milliseconds wait{0};
};
// Binds a partition to a stream (null = no stream). Takes effect once the
// partition has nothing in flight on its previous stream.
struct Bind {
  TopicPartition tp;
  std::shared_ptr<StreamSession> stream;
};
// A stream ended: its unsettled messages go back for redelivery.
struct StreamClosed {
  std::string stream_id;
};
struct Settle {
  std::string stream_id;
  std::vector<v1::Settlement> settlements;
};
struct Extend {
  std::string stream_id;
  std::vector<uint64_t> batch_ids;
  uint32_t extend_ms = 0;  // 0 = ack_timeout_ms
};
// Operator pause / resume (PausePartitions, ResumePartitions). Resume also
// ends a pause the error threshold caused, and retries at once the dead
// letters a dead-letter pause waits on.
struct SetPaused {
  std::vector<TopicPartition> tps;
  bool paused = false;
};
// Kafka's answer to a dead-letter produce.
struct DeadLettered {
  TopicPartition tp;
  uint64_t epoch = 0;
  int64_t offset = 0;
  absl::Status status;
  uint32_t failures = 0;  // of this message's produces before this one
};
// Shutdown: deliver nothing new, keep taking settlements.
struct Drain {};

}  // namespace cmd

using DispatcherCommand =
    std::variant<cmd::Assign, cmd::Revoke, cmd::Bind, cmd::StreamClosed, cmd::Settle,
                 cmd::Extend, cmd::SetPaused, cmd::DeadLettered, cmd::Drain>;

}  // namespace kafka_sidecar
