// Everything the sidecar tracks for one assigned partition: records fetched
// and waiting, batches in flight to a stream, retries waiting out their
// backoff, messages being dead-lettered, the commit watermark, pausing and
// the partition's binding. Touched only by the owning dispatcher thread.
//
// PartitionState is mechanism; the dispatcher decides policy (when to
// retry, rewind, dead-letter or pause).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "kafka_sidecar/v1/sidecar.pb.h"
#include "sidecar/common/clock.h"
#include "sidecar/common/topic_partition.h"
#include "sidecar/dispatch/dispatcher_command.h"
#include "sidecar/dispatch/error_throttle.h"
#include "sidecar/kafka/record.h"
#include "sidecar/stats/delivery_cause.h"
#include "sidecar/tracking/offset_tracker.h"

namespace kafka_sidecar {

class StreamSession;

struct PendingRecord {
  Record record;
  uint32_t attempt = 1;  // the delivery attempt this record will go out as
  uint32_t retries = 0;  // RETRYs and ack timeouts so far
  std::string reason;    // the last failure's reason, for dead letters
  DeliveryCause cause = DeliveryCause::kFirst;  // why its next delivery happens
};

struct InFlightBatch {
  uint64_t id = 0;
  std::shared_ptr<StreamSession> stream;
  MonoTime sent_at;
  MonoTime deadline;                   // ack timeout; Extend moves it
  std::vector<PendingRecord> records;  // offset order
  std::vector<bool> settled;           // settled, cancelled or timed out
  size_t unsettled = 0;
  uint64_t unsettled_bytes = 0;
};

// Window to give back to a stream.
struct Release {
  std::shared_ptr<StreamSession> stream;
  uint64_t messages = 0;
  uint64_t bytes = 0;
};

// What applying one settlement did. ACKs are applied to the commit
// watermark; retried and rejected records are handed to the caller.
struct SettleEffect {
  uint64_t acked = 0;
  uint64_t stale = 0;
  std::vector<PendingRecord> retry;
  std::vector<PendingRecord> rejected;
  Release release;
  double latency_ms = 0;
  bool batch_done = false;
};

// Records taken out of flight (timed out or cancelled by a rewind).
struct Withdrawn {
  std::vector<PendingRecord> records;
  std::vector<Release> releases;
  std::vector<uint64_t> finished_batches;  // ids no longer in flight
};

class PartitionState {
 public:
  PartitionState(TopicPartition tp, uint64_t epoch, ErrorThrottleOptions throttle)
      : tp_(std::move(tp)), epoch_(epoch), throttle_(throttle) {}

  const TopicPartition& tp() const { return tp_; }
  // Distinguishes this life of the partition from a later reassignment, for
  // results (dead-letter acks) that arrive after a revoke.
  uint64_t epoch() const { return epoch_; }

  // A record fetched from Kafka (offset order). False when it is a refetch
  // of an offset already held; the record is then dropped.
  bool Receive(Record record, MonoTime now);

  size_t pending_count() const { return pending_.size(); }
  uint64_t pending_bytes() const { return pending_bytes_; }
  const PendingRecord& pending_at(size_t i) const { return pending_[i]; }
  MonoTime pending_since() const { return pending_since_; }

  // Moves the first `n` pending records into a new in-flight batch.
  InFlightBatch& StartBatch(uint64_t id, std::shared_ptr<StreamSession> stream, size_t n,
                            MonoTime now, MonoTime deadline);
  // The same for records taken from the retry queue (ordering: none).
  InFlightBatch& StartBatchOf(uint64_t id, std::shared_ptr<StreamSession> stream,
                              std::vector<PendingRecord> records, MonoTime now,
                              MonoTime deadline);
  // Undoes a start when the stream refused the batch: the records go back
  // to pending as they were.
  void CancelBatch(uint64_t id);

  SettleEffect Settle(const std::string& stream_id, const v1::Settlement& settlement, MonoTime now);
  // Pushes a batch's ack deadline out; returns the batch's stream, or null
  // if it is not in flight on `stream_id`.
  StreamSession* Extend(uint64_t id, const std::string& stream_id, MonoTime deadline);

  // Takes the unsettled records of every batch whose deadline has passed.
  Withdrawn TakeExpired(MonoTime now);
  // Earliest ack deadline among batches in flight.
  std::optional<MonoTime> NextDeadline() const;
  // ordering: partition. Takes every unsettled in-flight record after
  // `offset` back into pending (attempt + 1, as they were delivered); their
  // settlements become stale.
  Withdrawn CancelAfter(int64_t offset);

  // Back into pending in offset order, attempt raised by one.
  void Redeliver(std::vector<PendingRecord> records, MonoTime now);

  // ordering: none. A retried record waits here until `due`.
  void AddRetry(PendingRecord record, MonoTime due);
  // Up to `max` records whose backoff is over, in offset order.
  std::vector<PendingRecord> TakeDueRetries(MonoTime now, size_t max);
  std::optional<MonoTime> NextRetryDue() const;
  size_t retry_count() const { return retry_waiting_.size(); }

  // Dead-lettering: the record is kept, unsettled for commits, until Kafka
  // acknowledged the dead-letter produce.
  void StartDeadLetter(PendingRecord record);
  const PendingRecord* dead_letter(int64_t offset) const;
  // Produce acknowledged: settles the offset.
  bool FinishDeadLetter(int64_t offset);
  size_t dead_letter_count() const { return dead_letters_.size(); }
  // The produce failed for good and the message is to be skipped: settles
  // the offset without a dead letter.
  bool SkipDeadLetter(int64_t offset);
  // Settles an offset the handler gave up on with no dead-letter topic.
  void Skip(int64_t offset) { tracker_.Settle(offset); }

  // The stream ended: the unsettled records of its batches go back to pending
  // with their attempt raised. Returns the ids of the batches taken back.
  std::vector<uint64_t> ReturnInFlight(const std::string& stream_id, uint64_t* records);

  // Revoke: forgets every in-flight batch, giving back stream windows.
  // Returns the ids dropped; `records` receives how many records were unsettled.
  std::vector<uint64_t> DropInFlight(uint64_t* records);

  size_t in_flight_batches() const { return in_flight_.size(); }
  uint64_t in_flight_records() const;
  bool HasInFlightOn(const std::string& stream_id) const;

  std::optional<int64_t> Watermark() const { return tracker_.Watermark(); }
  const OffsetTracker& tracker() const { return tracker_; }

  ErrorThrottle& throttle() { return throttle_; }
  const ErrorThrottle& throttle() const { return throttle_; }

  // Binding (SPEC §3): `stream` receives this partition's batches; a move to
  // `next_stream` waits until nothing is in flight.
  std::shared_ptr<StreamSession> stream;
  std::shared_ptr<StreamSession> next_stream;
  bool rebinding = false;

  bool revoking = false;
  MonoTime revoke_started;
  MonoTime revoke_deadline;
  std::shared_ptr<RevokeResult> revoke_result;

  // ordering: partition. After a rewind, pending waits until then.
  std::optional<MonoTime> hold_until;
  bool manual_pause = false;               // PausePartitions RPC
  // Dead letters the topic refused for good, offset -> why. While any is
  // here the partition delivers and fetches nothing (PAUSE_CAUSE_DEAD_LETTER):
  // its commit cannot move past the first of them anyway.
  std::map<int64_t, std::string> dead_letter_refused;
  bool dead_letter_paused() const { return !dead_letter_refused.empty(); }
  bool window_blocked = false;             // the stream's window had no room
  bool fetch_paused = false;               // Kafka fetch paused, as last set
  bool memory_full = false;                // too much waiting: fetch paused
  std::optional<int64_t> stored_offset;    // last offset handed to Kafka for commit
  int64_t delivered_upto = -1;             // next offset after the last delivered

  // Per-partition counters for stats (messages).
  struct Counters {
    uint64_t delivered = 0;
    uint64_t processed = 0;
    uint64_t failed = 0;
    uint64_t retried = 0;
    uint64_t errors = 0;
    uint64_t dead_lettered = 0;
  } counters;

 private:
  // Puts records back into pending, keeping offset order.
  void Requeue(std::vector<PendingRecord> records, MonoTime now);
  InFlightBatch& AddBatch(InFlightBatch batch);

  const TopicPartition tp_;
  const uint64_t epoch_;
  OffsetTracker tracker_;
  std::deque<PendingRecord> pending_;
  uint64_t pending_bytes_ = 0;
  MonoTime pending_since_;
  absl::flat_hash_map<uint64_t, InFlightBatch> in_flight_;
  std::multimap<MonoTime, PendingRecord> retry_waiting_;
  absl::flat_hash_map<int64_t, PendingRecord> dead_letters_;
  ErrorThrottle throttle_;
};

}  // namespace kafka_sidecar
