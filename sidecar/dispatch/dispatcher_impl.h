// The dispatcher thread. One loop: apply commands from other threads, read a
// batch of records from its Kafka queue, send what is ready to the bound
// streams, finish revokes whose settlements are in, store commit offsets.
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "sidecar/common/clock.h"
#include "sidecar/dispatch/dispatcher.h"
#include "sidecar/dispatch/partition_state.h"
#include "sidecar/kafka/dispatch_queue.h"
#include "sidecar/stats/sidecar_stats.h"

namespace kafka_sidecar {

struct DispatcherOptions {
  int index = 0;
  size_t batch_size = 100;
  Millis batch_timeout{5};
  size_t partition_workers = 1;
  // Fetching of a partition pauses while this much is waiting undelivered.
  size_t max_pending_messages = 2000;
  uint64_t max_pending_bytes = 4 << 20;
  // Records read from the queue per loop.
  size_t consume_batch = 1024;
  // At-most-once: commit offsets as batches are sent.
  bool commit_on_delivery = false;
};

class DispatcherImpl final : public Dispatcher {
 public:
  DispatcherImpl(DispatcherOptions options, DispatchQueue* queue, PartitionControl* control,
                 SidecarStats* stats, const Clock& clock);
  ~DispatcherImpl() override;

  int index() const override { return options_.index; }
  void Post(DispatcherCommand command) override;
  void Wake() override { queue_->Wake(); }
  void Start() override;
  void Stop() override;
  size_t partition_count() const override { return partition_count_.load(); }

  // One loop iteration, for tests that drive the dispatcher without a thread.
  void RunOnce(Millis max_wait);

 private:
  void Run();
  void ProcessCommands();
  void Apply(cmd::Assign& c);
  void Apply(cmd::Revoke& c);
  void Apply(cmd::Bind& c);
  void Apply(cmd::StreamClosed& c);
  void Apply(cmd::Settle& c);
  void Apply(cmd::Drain& c);
  void ApplySettlement(const std::string& stream_id, const v1::Settlement& s, MonoTime now);

  PartitionState* Find(std::string_view topic, int32_t partition);
  void Ingest(std::vector<FetchedRecord>& records, MonoTime now);
  void Deliver(PartitionState& p, bool queue_drained, MonoTime now);
  void MaybeCompleteRebind(PartitionState& p);
  void FinishRevokes(MonoTime now);
  void FinishRevoke(PartitionState& p);
  void PartitionsChanged();
  void UpdateFetchPause(PartitionState& p);
  void StoreOffset(PartitionState& p);
  Millis NextWait(MonoTime now, Millis max_wait) const;

  const DispatcherOptions options_;
  DispatchQueue* const queue_;
  PartitionControl* const control_;
  SidecarStats* const stats_;
  const Clock& clock_;

  absl::Mutex mu_;
  std::vector<DispatcherCommand> inbox_ ABSL_GUARDED_BY(mu_);

  std::atomic<bool> stop_{false};
  std::atomic<size_t> partition_count_{0};
  std::thread thread_;

  // Dispatcher-thread state.
  absl::flat_hash_map<TopicPartition, std::unique_ptr<PartitionState>> partitions_;
  absl::flat_hash_map<uint64_t, PartitionState*> batch_owner_;
  std::vector<PartitionState*> order_;  // partitions_ in serving order
  size_t next_first_ = 0;
  PartitionState* last_found_ = nullptr;
  uint64_t next_sequence_ = 1;
  bool draining_ = false;
  std::vector<FetchedRecord> fetched_;
  std::vector<DispatcherCommand> commands_;
};

}  // namespace kafka_sidecar
