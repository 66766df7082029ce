// A handler for end-to-end tests: a C++ client of ConsumerSidecar.Consume
// that records everything the sidecar sends and settles batches by a policy,
// so a test can script well-behaved, slow, crashing and misbehaving handlers.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "kafka_sidecar/v1/sidecar.grpc.pb.h"

namespace kafka_sidecar::testing {

using TopicPartitionKey = std::pair<std::string, int32_t>;

struct ReceivedMessage {
  int64_t offset = 0;
  uint32_t delivery_attempt = 0;
  uint64_t batch_id = 0;
  std::string key;  // empty for a null key
};

// What the handler does with a batch as it arrives.
enum class SettleAction {
  kAck,           // one ACK settlement with an empty offsets list
  kAckByOffsets,  // one ACK settlement naming every offset of the batch
  kHold,          // keep it unsettled until ReleaseHeld() or the stream ends
};
// Called on the reader thread, one batch at a time, in arrival order.
using SettlePolicy = std::function<SettleAction(const v1::Batch&)>;

// Decides each message on its own: the handler sends one settlement per
// outcome, naming the offsets; OUTCOME_UNSPECIFIED leaves the message
// unsettled. Takes precedence over the SettlePolicy.
using MessagePolicy = std::function<v1::Outcome(const v1::Batch&, const v1::Message&)>;

SettlePolicy AckAll();
SettlePolicy AckAllByOffsets();
SettlePolicy HoldAll();
// ACKs the first `n` batches this handler receives, holds all later ones.
SettlePolicy AckFirstNThenHold(int n);

// Everything the handler has seen; predicates of WaitFor() read it under the
// handler's lock.
struct HandlerState {
  std::optional<v1::Subscribed> subscribed;
  // Every delivered message per partition, in arrival order (duplicates and
  // redeliveries included).
  std::map<TopicPartitionKey, std::vector<ReceivedMessage>> received;
  std::map<TopicPartitionKey, std::set<int64_t>> distinct;
  // Offsets this handler sent an ACK for (the write succeeded).
  std::map<TopicPartitionKey, std::set<int64_t>> acked;
  uint64_t received_count = 0;
  uint64_t distinct_count = 0;
  uint64_t acked_count = 0;  // distinct (partition, offset) acked
  uint64_t batches_received = 0;
  uint64_t batches_acked = 0;
  std::vector<uint64_t> batch_ids;  // arrival order
  std::vector<absl::Time> batch_times;  // arrival time of each of batch_ids
  std::map<uint64_t, v1::Batch> held;
  std::vector<v1::AssignmentChange> assignment_changes;
  std::set<TopicPartitionKey> assigned;  // as the AssignmentChanges say now
  std::vector<v1::Draining> draining;
  std::vector<v1::PartitionPaused> paused;
  std::optional<absl::Time> first_receive;
  std::optional<absl::Time> last_receive;
  bool stream_done = false;
  std::optional<grpc::Status> finish_status;
};

class TestHandler {
 public:
  explicit TestHandler(SettlePolicy policy = AckAll());
  // Cancels a still-open stream and joins the reader thread.
  ~TestHandler();

  TestHandler(const TestHandler&) = delete;
  TestHandler& operator=(const TestHandler&) = delete;

  // Channel credentials for Open()/Connect(), e.g. grpc::SslCredentials for
  // a TLS listener; plaintext when never called.
  void SetCredentials(std::shared_ptr<grpc::ChannelCredentials> credentials) {
    credentials_ = std::move(credentials);
  }

  // Opens the Consume stream and starts the reader thread without sending
  // anything: for tests that send a bad first request with Send(). One
  // stream per TestHandler.
  absl::Status Open(const std::string& target);

  // Open() + Subscribe, then waits for Subscribed. Fails if the stream ends
  // first or nothing comes within `timeout` (the stream is then cancelled).
  absl::StatusOr<v1::Subscribed> Connect(
      const std::string& target, v1::Subscribe subscribe = {},
      absl::Duration timeout = absl::Seconds(30));

  // Any request, as is. False if the stream is closed for writing.
  bool Send(const v1::ConsumeRequest& request);
  // One settlement in one Settle request.
  bool Settle(uint64_t batch_id, const std::vector<int64_t>& offsets,
              v1::Outcome outcome, uint32_t retry_after_ms = 0);

  // Applies to batches arriving from now on.
  void SetPolicy(SettlePolicy policy);
  void SetMessagePolicy(MessagePolicy policy);
  // ACKs every held batch (empty offsets list); returns how many were acked.
  int ReleaseHeld();

  // A crash: cancels the call with no further writes, held batches stay
  // unsettled. Returns once the reader thread has ended.
  void Disconnect();
  // A clean end: WritesDone, then the sidecar's status. If the sidecar does
  // not end the stream within `timeout` the call is cancelled.
  grpc::Status Close(absl::Duration timeout = absl::Seconds(10));

  // Waits until `predicate(state)` holds; false on timeout. Re-evaluated on
  // every event, under the handler's lock: keep it cheap and do not call the
  // handler's methods from it.
  bool WaitFor(const std::function<bool(const HandlerState&)>& predicate,
               absl::Duration timeout) const;
  // The stream's final status once the sidecar (or a cancel) ended it.
  std::optional<grpc::Status> WaitForFinish(absl::Duration timeout) const;

  HandlerState Snapshot() const;
  uint64_t ReceivedCount() const;
  uint64_t DistinctCount() const;
  std::map<TopicPartitionKey, std::vector<ReceivedMessage>> Received() const;
  std::set<int64_t> DistinctOffsets(const std::string& topic,
                                    int32_t partition) const;
  std::set<int64_t> AckedOffsets(const std::string& topic,
                                 int32_t partition) const;
  std::optional<grpc::Status> finish_status() const;

 private:
  void ReadLoop();
  void OnBatch(const v1::Batch& batch);
  bool WriteLocked(const v1::ConsumeRequest& request);
  void RecordAcked(const v1::Batch& batch);
  void RecordAckedOffsets(const v1::Batch& batch, const std::vector<int64_t>& offsets);
  void SettleEach(const v1::Batch& batch, const MessagePolicy& policy);

  SettlePolicy policy_;  // used on the reader thread; guarded by policy_mu_
  MessagePolicy message_policy_;  // guarded by policy_mu_
  std::mutex policy_mu_;

  std::shared_ptr<grpc::ChannelCredentials> credentials_;  // null = plaintext
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ConsumerSidecar::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ConsumeRequest,
                                           v1::ConsumeResponse>>
      stream_;
  std::thread reader_;

  // The sync API allows one writer at a time; Finish() also counts as one.
  std::mutex write_mu_;
  bool writes_closed_ = false;  // guarded by write_mu_

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  HandlerState state_;  // guarded by mu_
};

// One PausePartitions (paused) or ResumePartitions call; returns the
// partitions the sidecar acted on. `credentials` null = plaintext.
absl::StatusOr<std::vector<TopicPartitionKey>> SetPartitionsPaused(
    const std::string& target, const std::vector<TopicPartitionKey>& partitions, bool paused,
    absl::Duration timeout = absl::Seconds(5),
    std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

// One GetStats call with a deadline; `credentials` null = plaintext.
absl::StatusOr<v1::GetStatsResponse> GetStats(
    const std::string& target, absl::Duration timeout = absl::Seconds(5),
    std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

}  // namespace kafka_sidecar::testing
