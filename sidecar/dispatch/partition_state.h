// Everything the sidecar tracks for one assigned partition: records fetched
// and waiting, batches in flight to a stream, the commit watermark, and the
// partition's binding. Touched only by the owning dispatcher thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "kafka_sidecar/v1/sidecar.pb.h"
#include "sidecar/common/clock.h"
#include "sidecar/common/topic_partition.h"
#include "sidecar/dispatch/dispatcher_command.h"
#include "sidecar/kafka/record.h"
#include "sidecar/tracking/offset_tracker.h"

namespace kafka_sidecar {

class StreamSession;

struct PendingRecord {
  Record record;
  uint32_t attempt = 1;  // the delivery attempt this record will go out as
};

struct InFlightBatch {
  uint64_t id = 0;
  std::shared_ptr<StreamSession> stream;
  MonoTime sent_at;
  std::vector<PendingRecord> records;  // offset order
  std::vector<bool> settled;
  size_t unsettled = 0;
  uint64_t unsettled_bytes = 0;
};

// What applying one settlement did, for stats and flow control.
struct SettleEffect {
  uint64_t acked = 0;
  uint64_t retried = 0;
  uint64_t rejected = 0;
  uint64_t stale = 0;
  // Window to give back to `stream`.
  uint64_t released_messages = 0;
  uint64_t released_bytes = 0;
  std::shared_ptr<StreamSession> stream;
  double latency_ms = 0;
  bool batch_done = false;
};

class PartitionState {
 public:
  explicit PartitionState(TopicPartition tp) : tp_(std::move(tp)) {}

  const TopicPartition& tp() const { return tp_; }

  // A record fetched from Kafka (offset order). False when it is a refetch
  // of an offset already held; the record is then dropped.
  bool Receive(Record record, MonoTime now);

  size_t pending_count() const { return pending_.size(); }
  uint64_t pending_bytes() const { return pending_bytes_; }
  const PendingRecord& pending_at(size_t i) const { return pending_[i]; }
  MonoTime pending_since() const { return pending_since_; }

  // Moves the first `n` pending records into a new in-flight batch.
  InFlightBatch& StartBatch(uint64_t id, std::shared_ptr<StreamSession> stream, size_t n,
                            MonoTime now);
  // Undoes StartBatch when the stream refused the batch: the records go back
  // to pending as they were.
  void CancelBatch(uint64_t id);

  SettleEffect Settle(const std::string& stream_id, const v1::Settlement& settlement, MonoTime now);

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

  // Binding (SPEC §3): `stream` receives this partition's batches; a move to
  // `next_stream` waits until nothing is in flight.
  std::shared_ptr<StreamSession> stream;
  std::shared_ptr<StreamSession> next_stream;
  bool rebinding = false;

  bool revoking = false;
  MonoTime revoke_started;
  MonoTime revoke_deadline;
  std::shared_ptr<RevokeResult> revoke_result;

  bool window_blocked = false;             // the stream's window had no room
  bool fetch_paused = false;               // paused for memory, by the dispatcher
  std::optional<int64_t> stored_offset;    // last offset handed to Kafka for commit
  int64_t delivered_upto = -1;             // next offset after the last delivered

 private:
  // Puts records back into pending, keeping offset order.
  void Requeue(std::vector<PendingRecord> records, MonoTime now);

  const TopicPartition tp_;
  OffsetTracker tracker_;
  std::deque<PendingRecord> pending_;
  uint64_t pending_bytes_ = 0;
  MonoTime pending_since_;
  absl::flat_hash_map<uint64_t, InFlightBatch> in_flight_;
};

}  // namespace kafka_sidecar
