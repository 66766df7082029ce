// --dev: Kafka without Kafka. librdkafka's in-process mock cluster with a
// demo topic, its dead-letter topic, and a producer writing sample JSON
// messages (now and then one that is not valid JSON), so a handler author
// can try a handler with one command. Never for production: the mock
// cluster keeps everything in memory and implements only what librdkafka's
// own tests need.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "absl/status/statusor.h"

namespace kafka_sidecar {

struct DevClusterOptions {
  std::string topic = "demo";
  int partitions = 3;
  std::string dead_letter_topic = "demo.dlt";  // empty = none
  int messages_per_second = 10;
  // Every Nth message is not valid JSON (0 = none).
  int invalid_every = 25;
};

class DevCluster {
 public:
  static absl::StatusOr<std::unique_ptr<DevCluster>> Start(const DevClusterOptions& options);
  // Stops the generator, then the cluster.
  ~DevCluster();

  DevCluster(const DevCluster&) = delete;
  DevCluster& operator=(const DevCluster&) = delete;

  const std::string& bootstrap_servers() const { return bootstrap_; }
  uint64_t produced() const { return produced_.load(); }

  // The sample message with sequence number `n`: JSON, or for every
  // `invalid_every`th one, text that is not.
  static std::string SampleValue(uint64_t n, int invalid_every);

 private:
  explicit DevCluster(DevClusterOptions options) : options_(std::move(options)) {}
  void Generate();

  const DevClusterOptions options_;
  rd_kafka_t* owner_ = nullptr;     // holds the mock cluster
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  rd_kafka_t* producer_ = nullptr;  // the sample generator
  std::string bootstrap_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> produced_{0};
  std::thread generator_;
};

}  // namespace kafka_sidecar
