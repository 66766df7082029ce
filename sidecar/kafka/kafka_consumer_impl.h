// librdkafka implementation of KafkaConsumer (SPEC §7): a high-level
// consumer with cooperative-sticky assignment and manual offset store; each
// assigned partition's queue is forwarded to its dispatcher's queue, and the
// main queue (rebalances, errors) is served by one control thread, also
// while every partition is paused.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "absl/status/statusor.h"
#include "sidecar/common/clock.h"
#include "sidecar/config/config.h"
#include "sidecar/common/mutex.h"
#include "sidecar/kafka/auth_failure_log.h"
#include "sidecar/kafka/commit_gate.h"
#include "sidecar/kafka/kafka_consumer.h"
#include "sidecar/kafka/kafka_partition_view.h"
#include "sidecar/kafka/rdkafka_statistics.h"
#include "sidecar/stats/sidecar_stats.h"

namespace kafka_sidecar {

class KafkaConsumerImpl final : public KafkaConsumer, public KafkaPartitionView {
 public:
  // Builds the client; errors name the offending setting.
  static absl::StatusOr<std::unique_ptr<KafkaConsumerImpl>> Create(const Config& config,
                                                                   int num_queues,
                                                                   SidecarStats* stats);
  // Sets the consumer's librdkafka properties on `conf` exactly as Create
  // does (the callbacks aside: setting those cannot fail). --validate runs it
  // too, so that what it accepts start-up accepts. Errors name the config key
  // and never quote a secret's value.
  static absl::Status BuildConf(const Config& config, rd_kafka_conf_t* conf);
  ~KafkaConsumerImpl() override;

  std::vector<DispatchQueue*> queues() override;
  absl::Status Start(Coordinator* coordinator) override;
  void PauseAll() override;
  absl::Status Close() override;

  absl::Status StoreOffset(const TopicPartition& tp, int64_t next_offset) override;
  absl::Status Pause(const TopicPartition& tp) override;
  absl::Status Resume(const TopicPartition& tp, std::optional<int64_t> from) override;

  // KafkaPartitionView, from librdkafka's statistics (every
  // observability.health_check_interval_ms).
  std::optional<PartitionOffsets> Offsets(const TopicPartition& tp) const override;
  BrokerConnectivity Connectivity() const override;

  // The authentication failure librdkafka reported last, without broker and
  // timing ("SASL authentication error: ..."); empty when none has been
  // reported since the group last assigned partitions. librdkafka keeps
  // retrying, so this is a reason not to be ready, not to exit. Any thread.
  std::string last_auth_error() const { return auth_failures_.last_error(); }

 private:
  class Queue;

  KafkaConsumerImpl(const Config& config, SidecarStats* stats);

  static void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* parts, void* opaque);
  static int StatsCallback(rd_kafka_t* rk, char* json, size_t json_len, void* opaque);
  static void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void CommitCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t* offsets, void* opaque);
  // Why partitions go: a rebalance moving them (their settlements are
  // awaited and committed), shutdown (the drain already waited), a lost
  // assignment or a failed rebalance (nothing can be committed any more).
  enum class RevokeKind { kGraceful, kClosing, kLost, kError };
  void OnAssign(rd_kafka_topic_partition_list_t* parts);
  void Revoke(rd_kafka_topic_partition_list_t* parts, RevokeKind kind);
  // Close: sends the LeaveGroup librdkafka omits for an unassigned member.
  void LeaveIfUnassigned();
  bool HasMemberId() const;
  // The group generation (classic) or member epoch (consumer) librdkafka
  // holds now; -1 when it has none.
  int32_t Generation() const;
  void ControlLoop();
  // False when librdkafka refused the commit at once.
  bool CommitStored(bool sync);
  // Synchronous commit of explicit offsets, retried on transient errors
  // (coordinator moving or loading, timeouts) until `deadline`.
  rd_kafka_resp_err_t CommitWithRetry(rd_kafka_topic_partition_list_t* offsets,
                                      std::chrono::steady_clock::time_point deadline);

  const Config config_;
  SidecarStats* const stats_;
  rd_kafka_t* rk_ = nullptr;
  std::vector<std::unique_ptr<Queue>> queues_;
  Coordinator* coordinator_ = nullptr;
  bool cooperative_ = true;
  bool consumer_protocol_ = false;
  // Periodic commits wait out a cooperative rebalance (commit_gate.h).
  // Control thread (rebalance callbacks run there, or in Close after it).
  CommitGate commit_gate_{std::chrono::milliseconds(config_.processing.revoke_timeout_ms +
                                                    config_.kafka.session_timeout_ms)};
  // A rebalance completed: commit without waiting for the interval.
  std::atomic<bool> commit_now_{false};

  std::atomic<bool> stop_{false};
  std::atomic<bool> closing_{false};
  std::thread control_;
  // An async commit is outstanding: the next interval skips, so commits do
  // not pile up in librdkafka while the coordinator is away. Control thread.
  std::atomic<bool> commit_outstanding_{false};
  std::chrono::steady_clock::time_point commit_sent_;
  // The final commit failed for good; Close reports it. Set in the revoke
  // callback inside rd_kafka_consumer_close.
  rd_kafka_resp_err_t final_commit_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;

  // Partition queues forwarded to dispatchers; touched in rebalance
  // callbacks, which run on the control thread (or in Close after it stopped).
  std::map<TopicPartition, rd_kafka_queue_t*> forwarded_;

  // The last statistics, written by the control thread (the statistics
  // callback is served by its poll) and read by stats and health.
  mutable Mutex view_mu_;
  RdKafkaStatistics statistics_ ABSL_GUARDED_BY(view_mu_);
  bool have_statistics_ ABSL_GUARDED_BY(view_mu_) = false;
  std::optional<MonoTime> last_broker_up_ ABSL_GUARDED_BY(view_mu_);
  // The last error event other than authentication and "all brokers down"
  // (a name that does not resolve, a refused connection, a TLS failure): what
  // the health check and a start-up failure tell an operator.
  std::string last_connection_error_ ABSL_GUARDED_BY(view_mu_);

  RealClock clock_;
  AuthFailureLog auth_failures_{clock_};
};

}  // namespace kafka_sidecar
