// The dispatcher thread. One loop: apply commands from other threads, read a
// batch of records from its Kafka queue, send what is ready to the bound
// streams, finish revokes whose settlements are in, store commit offsets.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "sidecar/common/mutex.h"
#include "sidecar/common/clock.h"
#include "sidecar/common/random.h"
#include "sidecar/config/config.h"
#include "sidecar/deadletter/dead_letter_producer.h"
#include "sidecar/dispatch/dispatcher.h"
#include "sidecar/dispatch/error_throttle.h"
#include "sidecar/dispatch/partition_state.h"
#include "sidecar/dispatch/retry_backoff.h"
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

  OrderingMode ordering = OrderingMode::kPartition;
  // RETRYs and ack timeouts a message may have before it is given up on.
  uint32_t max_retries = 3;
  Millis retry_backoff{1000};
  Millis retry_backoff_max{30000};
  Millis ack_timeout{30000};
  // processing.max_extension_ms: the most one Extend may move a deadline
  // past now.
  Millis max_extension{600000};
  ErrorThrottleOptions throttle;
  // processing.error_threshold_counts_rejects.
  bool rejects_count_toward_threshold = false;
  // Where given-up messages go; null = logged, counted failed and skipped.
  DeadLetterProducer* dead_letters = nullptr;
  // Wait before producing a dead letter again after a transient failure,
  // doubling with each failure of the same message up to the max.
  Millis dead_letter_retry{1000};
  Millis dead_letter_retry_max{30000};
  // After a permanent failure (IsPermanentDeadLetterFailure) the partition
  // is paused and the produce tried again this often: an operator who fixes
  // the topic sees the partition resume without a restart.
  Millis dead_letter_permanent_retry{60000};
  // processing.dead_letter_on_permanent_failure: skip. The message is
  // logged, counted and passed by the commit instead of pausing.
  bool skip_undeliverable_dead_letters = false;
};

class DispatcherImpl final : public Dispatcher {
 public:
  DispatcherImpl(DispatcherOptions options, DispatchQueue* queue, PartitionControl* control,
                 SidecarStats* stats, const Clock& clock, Random* random);
  ~DispatcherImpl() override;

  int index() const override { return options_.index; }
  void Post(DispatcherCommand command) override;
  void Wake() override { queue_->Wake(); }
  void Start() override;
  void Stop() override;
  size_t partition_count() const override { return partition_count_.load(); }
  std::vector<v1::PartitionStats> PartitionStatsSnapshot() const override;
  MonoTime last_progress() const override;
  std::optional<std::string> failure() const override;
  absl::Status Restart() override;

  // One loop iteration, for tests that drive the dispatcher without a thread.
  void RunOnce(Millis max_wait);
  // RunOnce, with an escaping exception recorded as the loop's failure;
  // false when it failed.
  bool RunOnceGuarded(Millis max_wait);
  // The state reset of Restart, without the thread, for tests.
  void Recover();

 private:
  void Run();
  void ProcessCommands();
  void Apply(cmd::Assign& c);
  void Apply(cmd::Revoke& c);
  void Apply(cmd::Bind& c);
  void Apply(cmd::StreamClosed& c);
  void Apply(cmd::Settle& c);
  void Apply(cmd::Extend& c);
  void Apply(cmd::SetPaused& c);
  void Apply(cmd::DeadLettered& c);
  void Apply(cmd::Drain& c);
  void ApplySettlement(const std::string& stream_id, const v1::Settlement& s, MonoTime now);

  // Settlement policy (SPEC §3): retried records rewind the partition or
  // wait out their backoff; exhausted and rejected ones are given up on.
  // Returns how many of `records` were given up on (retries exhausted).
  size_t Retry(PartitionState& p, std::vector<PendingRecord> records, uint32_t retry_after_ms,
               DeliveryCause cause, MonoTime now);
  void GiveUp(PartitionState& p, std::vector<PendingRecord> records, MonoTime now);
  void ProduceDeadLetter(PartitionState& p, const PendingRecord& r, uint32_t failures);
  // A dead-letter produce failed: skip, pause or retry, as configured.
  void DeadLetterFailed(PartitionState& p, cmd::DeadLettered& c, MonoTime now);
  // Sends the handler a PartitionPaused for a dead-letter pause.
  void TellDeadLetterPaused(PartitionState& p);
  std::string DeadLetterReason(const PartitionState& p) const;
  void CountErrors(PartitionState& p, uint64_t n, MonoTime now);
  // Tells the partition's stream that the error threshold paused it.
  void TellPaused(PartitionState& p, Millis pause);
  std::string ThresholdReason() const;
  // Window and bookkeeping for records taken out of flight.
  void Withdraw(PartitionState& p, const Withdrawn& w);
  // Ack timeouts, retry backoffs, pause ends: the work that waits on time.
  void RunTimers(MonoTime now);
  void ScheduleTimer(MonoTime at) { next_timer_ = std::min(next_timer_, at); }
  bool SendBatch(PartitionState& p, InFlightBatch& batch, MonoTime now);
  v1::PartitionStats StatsOf(const PartitionState& p, MonoTime now) const;
  void PublishStats(MonoTime now);

  PartitionState* Find(std::string_view topic, int32_t partition);
  void Ingest(std::vector<FetchedRecord>& records, MonoTime now);
  void Deliver(PartitionState& p, bool queue_drained, MonoTime now);
  void MaybeCompleteRebind(PartitionState& p);
  void FinishRevokes(MonoTime now);
  void FinishRevoke(PartitionState& p);
  void PartitionsChanged();
  void UpdateFetchPause(PartitionState& p, MonoTime now);
  void StoreOffset(PartitionState& p);
  Millis NextWait(MonoTime now, Millis max_wait) const;

  const DispatcherOptions options_;
  DispatchQueue* const queue_;
  PartitionControl* const control_;
  SidecarStats* const stats_;
  const Clock& clock_;
  const RetryBackoff backoff_;

  Mutex mu_;
  std::vector<DispatcherCommand> inbox_ ABSL_GUARDED_BY(mu_);

  mutable Mutex stats_mu_;
  std::vector<v1::PartitionStats> published_stats_ ABSL_GUARDED_BY(stats_mu_);
  MonoTime next_publish_;

  std::atomic<bool> stop_{false};
  std::atomic<size_t> partition_count_{0};
  std::atomic<int64_t> progress_ns_{0};
  mutable Mutex failure_mu_;
  std::optional<std::string> failure_ ABSL_GUARDED_BY(failure_mu_);
  std::thread thread_;

  // Dispatcher-thread state.
  absl::flat_hash_map<TopicPartition, std::unique_ptr<PartitionState>> partitions_;
  absl::flat_hash_map<uint64_t, PartitionState*> batch_owner_;
  std::vector<PartitionState*> order_;  // partitions_ in serving order
  size_t next_first_ = 0;
  PartitionState* last_found_ = nullptr;
  uint64_t next_sequence_ = 1;
  uint64_t next_epoch_ = 1;
  MonoTime next_timer_ = MonoTime::max();
  struct DeadLetterRetry {
    TopicPartition tp;
    uint64_t epoch;
    int64_t offset;
    MonoTime due;
    uint32_t failures;  // of this message's produces in a row
  };
  std::vector<DeadLetterRetry> dead_letter_retries_;
  bool draining_ = false;
  std::vector<FetchedRecord> fetched_;
  // How many of fetched_ reached their partitions (all, once Ingest returns).
  size_t handed_ = 0;
  std::vector<DispatcherCommand> commands_;
  size_t next_command_ = 0;  // into commands_: the next to apply
};

}  // namespace kafka_sidecar
