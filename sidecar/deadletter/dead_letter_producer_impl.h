// librdkafka implementation of DeadLetterProducer: idempotent, acks=all
// producers (a batching one, and one sending single records to tell a record
// too large from a batch too large), each with its own poll thread, which
// runs every `done` from the delivery report. The dead-letter record keeps the original key, value
// (null stays null, empty stays empty), timestamp and headers, and gets the
// headers below appended after the original ones.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include <librdkafka/rdkafka.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sidecar/common/mutex.h"
#include "sidecar/config/config.h"
#include "sidecar/deadletter/dead_letter_producer.h"

namespace kafka_sidecar {

// Headers added to every dead-letter record, values as UTF-8 strings
// (numbers in decimal). They are appended, so a record dead-lettered twice
// carries both sets: readers take the last occurrence of a name.
inline constexpr char kHeaderOriginalTopic[] = "x-original-topic";
inline constexpr char kHeaderOriginalPartition[] = "x-original-partition";
inline constexpr char kHeaderOriginalOffset[] = "x-original-offset";
// Milliseconds since the epoch; -1 when the original had no timestamp.
inline constexpr char kHeaderOriginalTimestamp[] = "x-original-timestamp";
inline constexpr char kHeaderDeliveryAttempts[] = "x-delivery-attempts";
inline constexpr char kHeaderDeadLetterReason[] = "x-dead-letter-reason";

// In the order they are appended.
inline constexpr const char* kDeadLetterHeaders[] = {
    kHeaderOriginalTopic,     kHeaderOriginalPartition, kHeaderOriginalOffset,
    kHeaderOriginalTimestamp, kHeaderDeliveryAttempts,  kHeaderDeadLetterReason,
};

class DeadLetterProducerImpl final : public DeadLetterProducer {
 public:
  // Produces to config.processing.dead_letter_topic (which must be set) on
  // config.kafka.bootstrap_servers, with every kafka.properties entry
  // applied except consumer-only ones; errors name the offending key.
  static absl::StatusOr<std::unique_ptr<DeadLetterProducerImpl>> Create(const Config& config);
  // Sets the producer's librdkafka properties on `conf` exactly as Create
  // does (callbacks aside); --validate runs it too. Errors as for Create.
  static absl::Status BuildConf(const Config& config, rd_kafka_conf_t* conf);

  // Waits a bounded time for outstanding produces, then purges the rest:
  // their `done` gets a non-OK status before the destructor returns.
  ~DeadLetterProducerImpl() override;

  DeadLetterProducerImpl(const DeadLetterProducerImpl&) = delete;
  DeadLetterProducerImpl& operator=(const DeadLetterProducerImpl&) = delete;

  // When the record cannot even be queued (local queue full, record too
  // large, fatal producer error), `done` runs on the calling thread before
  // Produce returns; otherwise it runs on the poll thread.
  void Produce(const Record& record, const DeadLetterInfo& info, Done done) override;
  absl::Status Flush(std::chrono::milliseconds timeout) override;

  const std::string& topic() const { return topic_; }

 private:
  struct Pending;

  explicit DeadLetterProducerImpl(std::string topic) : topic_(std::move(topic)) {}

  // A producer instance and the thread that serves its delivery reports.
  struct Instance {
    rd_kafka_t* rk = nullptr;
    std::thread poller;
  };

  static void DeliveryReport(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);
  // Produces the record of a failed batched produce again on alone_.
  void ProduceAlone(const rd_kafka_message_t* msg, Pending* pending);
  // Takes `pending` out of pending_ and runs its `done`. Only what is still
  // in pending_ runs, so the destructor's sweep and a delivery report cannot
  // both answer one produce.
  void Finish(Pending* pending, absl::Status status);
  // Waits until every queued produce's `done` has returned; false on timeout.
  bool AwaitIdle(absl::Duration timeout);
  bool IdleLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return pending_.empty() && running_ == 0;
  }
  void PollLoop(rd_kafka_t* rk);

  const std::string topic_;
  // Every record goes out batched; one refused for its size, which the
  // broker judges per batch, is tried again on its own before the failure
  // counts as the record's (IsPermanentDeadLetterFailure).
  Instance batched_;
  Instance alone_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> purging_{false};

  Mutex mu_;
  CondVar idle_;  // signalled when IdleLocked() becomes true
  // Every produce queued in librdkafka whose `done` has not run yet; what
  // librdkafka never reports by the time it is destroyed is failed from here.
  absl::flat_hash_set<Pending*> pending_ ABSL_GUARDED_BY(mu_);
  // `done` callbacks taken out of pending_ and still running, so Flush and
  // the destructor return only after they have.
  int running_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kafka_sidecar
