// A real Apache Kafka broker (KRaft, single node, loopback) for tests, run by
// scripts/kafka.sh. Each instance owns a fresh log dir and a free port; the
// destructor stops the broker and removes its files.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kafka_sidecar::testing {

class KafkaBroker {
 public:
  // Starts a broker; fails if the script cannot fetch or start Kafka.
  static absl::StatusOr<std::unique_ptr<KafkaBroker>> Start();
  ~KafkaBroker();

  KafkaBroker(const KafkaBroker&) = delete;
  KafkaBroker& operator=(const KafkaBroker&) = delete;

  // "127.0.0.1:<port>".
  const std::string& bootstrap() const { return bootstrap_; }

  absl::Status CreateTopic(const std::string& topic, int partitions);

  // Committed offsets of `group` for `topic`, partition -> offset, read with
  // Kafka's own consumer-groups tool (an independent client). Partitions
  // without a committed offset are absent.
  absl::StatusOr<std::map<int32_t, int64_t>> CommittedOffsets(
      const std::string& group, const std::string& topic);

  // Log-end offsets of `topic`, partition -> offset.
  absl::StatusOr<std::map<int32_t, int64_t>> EndOffsets(const std::string& topic);

  // Stops the broker process, keeping its data; Restart() starts it again on
  // the same port. For fault-injection tests.
  absl::Status Stop();
  absl::Status Restart();

 private:
  KafkaBroker(std::string dir, std::string bootstrap)
      : dir_(std::move(dir)), bootstrap_(std::move(bootstrap)) {}

  std::string dir_;
  std::string bootstrap_;
};

}  // namespace kafka_sidecar::testing
