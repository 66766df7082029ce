// librdkafka's in-process mock cluster (rdkafka_mock.h) for
// fault-injection tests: N mock brokers on loopback, topics, a real producer
// to fill them, an independent reader of a group's committed offsets, and the
// fault knobs (request errors, broker down/up, RTT, coordinator and leader
// moves). Everything a real broker cannot be made to do on cue.
//
// The cluster lives inside a librdkafka producer handle that this object
// owns; every client that talks to it (the sidecar under test included) must
// be destroyed before the MockCluster, or it keeps reconnecting to dead
// listeners while it closes.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kafka_sidecar::testing {

// Kafka protocol request types (ApiKey) the fault knobs take.
inline constexpr int16_t kApiProduce = 0;
inline constexpr int16_t kApiFetch = 1;
inline constexpr int16_t kApiListOffsets = 2;
inline constexpr int16_t kApiMetadata = 3;
inline constexpr int16_t kApiOffsetCommit = 8;
inline constexpr int16_t kApiOffsetFetch = 9;
inline constexpr int16_t kApiFindCoordinator = 10;
inline constexpr int16_t kApiJoinGroup = 11;
inline constexpr int16_t kApiHeartbeat = 12;
inline constexpr int16_t kApiLeaveGroup = 13;
inline constexpr int16_t kApiSyncGroup = 14;

struct MockProduceOptions {
  // Message indices are first_index .. first_index + count - 1; message i
  // goes to partition i % partitions with key KeyFor(i) and value
  // ValueFor(i, value_size) (producer.h), so a topic that started empty holds
  // message (o * partitions + p) at offset o of partition p.
  int64_t first_index = 0;
  size_t value_size = 100;
  // The producer's batch.size: small record batches make a consumer with a
  // small max.partition.fetch.bytes fetch a partition in many round trips,
  // so faults injected mid-run hit data that has not been fetched yet.
  int batch_bytes = 1024;
  // For producing and for waiting on every delivery report.
  absl::Duration timeout = absl::Seconds(60);
};

using PartitionOffsets = std::map<int32_t, int64_t>;

class MockCluster {
 public:
  // A mock cluster with brokers 1 .. `brokers`.
  static absl::StatusOr<std::unique_ptr<MockCluster>> Create(int brokers);
  ~MockCluster();

  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  // "127.0.0.1:<port>,..." in broker id order.
  const std::string& bootstrap() const { return bootstrap_; }
  // "127.0.0.1:<port>" of broker `broker_id` (1-based), empty if none.
  std::string BrokerAddress(int32_t broker_id) const;
  int broker_count() const { return broker_count_; }
  rd_kafka_mock_cluster_t* raw() const { return mcluster_; }

  absl::Status CreateTopic(const std::string& topic, int partitions,
                           int replication_factor = 1);

  // Produces `count` messages through a real idempotent acks=all producer
  // pointed at the mock brokers; OK only once every delivery report came
  // back without error before the deadline.
  absl::Status Produce(const std::string& topic, int partitions, int64_t count,
                       const MockProduceOptions& options = {});

  // The group's committed offsets for partitions 0 .. partitions-1 as the
  // group coordinator reports them (OffsetFetch from a separate consumer with
  // the same group.id that never subscribes, so it never joins the group).
  // Partitions without a committed offset are absent.
  absl::StatusOr<PartitionOffsets> CommittedOffsets(
      const std::string& group, const std::string& topic, int partitions,
      absl::Duration timeout = absl::Seconds(10));

  // High watermarks (log-end offsets) of partitions 0 .. partitions-1.
  absl::StatusOr<PartitionOffsets> EndOffsets(
      const std::string& topic, int partitions,
      absl::Duration timeout = absl::Seconds(10));

  // Leader broker id per partition, from a metadata request.
  absl::StatusOr<std::map<int32_t, int32_t>> PartitionLeaders(
      const std::string& topic, absl::Duration timeout = absl::Seconds(10));

  // Polls CommittedOffsets until it equals `want` (every partition of
  // `want` committed at exactly that offset); false on timeout. `last` gets
  // the last answer (or is cleared if none came).
  bool WaitForCommitted(const std::string& group, const std::string& topic,
                        const PartitionOffsets& want, absl::Duration timeout,
                        PartitionOffsets* last = nullptr);

  // ---- Fault knobs ----

  // The next errors.size() `api_key` requests to any broker fail with these
  // errors, in order (RD_KAFKA_RESP_ERR__TRANSPORT disconnects instead).
  void PushRequestErrors(int16_t api_key,
                         const std::vector<rd_kafka_resp_err_t>& errors);
  void ClearRequestErrors(int16_t api_key);
  // Per broker, with a response delay each; take precedence over the
  // cluster-wide errors. An entry {RD_KAFKA_RESP_ERR_NO_ERROR, 0} is a probe:
  // it fails nothing, and BrokerErrorStackCount() shows when a request of
  // that type reached the broker.
  absl::Status PushBrokerRequestErrors(
      int32_t broker_id, int16_t api_key,
      const std::vector<std::pair<rd_kafka_resp_err_t, int>>& errors_and_rtts);
  // How many pushed per-broker entries are still waiting for a request.
  absl::StatusOr<size_t> BrokerErrorStackCount(int32_t broker_id,
                                               int16_t api_key);
  // Waits until the broker's stack for `api_key` is empty (every pushed
  // error was returned to some request); false on timeout.
  bool WaitForBrokerErrorsConsumed(int32_t broker_id, int16_t api_key,
                                   absl::Duration timeout);

  // Makes `broker_id` the coordinator of `group` (clients learn it on their
  // next FindCoordinator, e.g. after a NOT_COORDINATOR error).
  absl::Status SetGroupCoordinator(const std::string& group, int32_t broker_id);
  // -1 = every broker. Down: connections are closed and refused; leadership
  // does not move.
  absl::Status SetBrokerDown(int32_t broker_id);
  absl::Status SetBrokerUp(int32_t broker_id);
  absl::Status SetBrokerRtt(int32_t broker_id, int rtt_ms);
  absl::Status SetPartitionLeader(const std::string& topic, int32_t partition,
                                  int32_t broker_id);

 private:
  MockCluster() = default;

  // Lazily created, kept for the cluster's life. Guarded by clients_mu_.
  rd_kafka_t* GroupReaderLocked(const std::string& group, std::string* error);
  rd_kafka_t* MetadataClientLocked(std::string* error);

  rd_kafka_t* owner_ = nullptr;  // owns mcluster_
  rd_kafka_mock_cluster_t* mcluster_ = nullptr;
  int broker_count_ = 0;
  std::string bootstrap_;
  std::vector<std::string> broker_addresses_;

  std::mutex clients_mu_;
  rd_kafka_t* metadata_client_ = nullptr;
  std::map<std::string, rd_kafka_t*> group_readers_;
};

}  // namespace kafka_sidecar::testing
