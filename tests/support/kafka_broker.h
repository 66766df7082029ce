// A real Apache Kafka broker (KRaft, single node, loopback) for tests, run by
// scripts/kafka.sh. Each instance owns a fresh log dir and a free port; the
// destructor stops the broker and removes its files.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kafka_sidecar::testing {

// A user the broker knows for SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN.
// Neither name nor password may hold commas, quotes, backslashes, brackets
// or spaces (Kafka's storage tool and JAAS config parse them).
struct SaslUser {
  std::string username;
  std::string password;
};

struct KafkaBrokerOptions {
  // Adds a SASL_PLAINTEXT listener (sasl_bootstrap()) that authenticates
  // this user; the PLAINTEXT listener (bootstrap()) stays open for test
  // producers and Kafka's tools.
  std::optional<SaslUser> sasl;
  // The Kafka release, one scripts/kafka.sh supports ("4.1.1", "3.9.1").
  // Empty: the script's choice, KAFKA_VERSION from the environment or its
  // default, so a whole suite can be run against another release.
  // (Initialised so that `KafkaBrokerOptions{user}` stays warning-free.)
  std::string version = {};
};

class KafkaBroker {
 public:
  // Starts a broker; fails if the script cannot fetch or start Kafka.
  static absl::StatusOr<std::unique_ptr<KafkaBroker>> Start(
      const KafkaBrokerOptions& options = {});
  ~KafkaBroker();

  KafkaBroker(const KafkaBroker&) = delete;
  KafkaBroker& operator=(const KafkaBroker&) = delete;

  // "127.0.0.1:<port>" of the PLAINTEXT listener.
  const std::string& bootstrap() const { return bootstrap_; }
  // "127.0.0.1:<port>" of the SASL_PLAINTEXT listener; empty without
  // options.sasl.
  const std::string& sasl_bootstrap() const { return sasl_bootstrap_; }
  // The Kafka release it runs, e.g. "4.1.1".
  const std::string& version() const { return version_; }

  absl::Status CreateTopic(const std::string& topic, int partitions);
  // With topic configs, e.g. {"max.message.bytes", "2000"}.
  absl::Status CreateTopic(const std::string& topic, int partitions,
                           const std::map<std::string, std::string>& configs);

  // Committed offsets of `group` for `topic`, partition -> offset, read with
  // Kafka's own consumer-groups tool (an independent client). Partitions
  // without a committed offset are absent.
  absl::StatusOr<std::map<int32_t, int64_t>> CommittedOffsets(
      const std::string& group, const std::string& topic);

  // How many members the coordinator counts in `group` now, by Kafka's own
  // consumer-groups tool (0 for an empty or unknown group).
  absl::StatusOr<int> GroupMemberCount(const std::string& group);

  // Sets dynamic configs of a consumer group (Kafka 4.x; the group need not
  // exist yet), e.g. {"consumer.session.timeout.ms", "6000"}: what an
  // operator tunes per group under the consumer group protocol, where the
  // session and heartbeat are the broker's, not the client's.
  absl::Status SetGroupConfig(const std::string& group,
                              const std::map<std::string, std::string>& configs);

  // Sets dynamic configs of a topic, e.g. {"max.message.bytes", "1048588"}.
  absl::Status SetTopicConfig(const std::string& topic,
                              const std::map<std::string, std::string>& configs);

  // Log-end offsets of `topic`, partition -> offset.
  absl::StatusOr<std::map<int32_t, int64_t>> EndOffsets(const std::string& topic);

  // Whether Kafka's own (Java) client logs in on the SASL listener as `user`
  // with `mechanism` ("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"): OK, or
  // Unauthenticated with the tool's complaint. Tells a credential problem
  // from a client library's.
  absl::Status SaslLogin(const std::string& mechanism, const SaslUser& user);

  // Stops the broker process, keeping its data; Restart() starts it again on
  // the same port and release. For fault-injection tests.
  absl::Status Stop();
  absl::Status Restart();

 private:
  KafkaBroker(std::string dir, std::vector<std::string> bootstraps, std::string version)
      : dir_(std::move(dir)),
        bootstrap_(bootstraps.at(0)),
        sasl_bootstrap_(bootstraps.size() > 1 ? bootstraps[1] : ""),
        version_(std::move(version)) {}

  std::string dir_;
  std::string bootstrap_;
  std::string sasl_bootstrap_;
  std::string version_;
};

}  // namespace kafka_sidecar::testing
