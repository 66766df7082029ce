// The sidecar's configuration: SPEC section 4, one struct per YAML section.
// Defaults here are the documented defaults; loading and validation live in
// config_loader.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kafka_sidecar {

enum class OrderingMode { kPartition, kNone };

struct KafkaConfig {
  std::string bootstrap_servers = "localhost:9092";
  std::string group_id = "kafka-sidecar";
  std::vector<std::string> topics;
  std::string auto_offset_reset = "earliest";  // earliest | latest
  bool enable_auto_commit = false;             // true = at-most-once
  // classic: the group's members assign (cooperative-sticky by default).
  // consumer: the next-generation protocol (KIP-848, Kafka 4.x brokers): the
  // broker assigns, and its session and heartbeat settings apply instead of
  // the two below, which must then stay at their defaults.
  std::string group_protocol = "classic";
  int32_t session_timeout_ms = 45000;
  int32_t heartbeat_interval_ms = 3000;
  int32_t fetch_min_bytes = 1;
  int32_t fetch_max_wait_ms = 100;
  // No broker reached since start for this long: the sidecar exits 1 with
  // the last connection error, instead of running on, unready, unnoticed
  // (Docker and Compose do not act on health). 0 = wait for ever.
  int32_t startup_timeout_ms = 120000;
  // Passed to librdkafka as they are; values may be secrets.
  std::map<std::string, std::string> properties;
};

struct ProcessingConfig {
  int32_t max_workers = 4;          // dispatcher threads
  int32_t partition_workers = 1;    // batches of one partition in flight
  // Kafka's max.poll.records default. Batches fill only under a backlog
  // (batch_timeout_ms, or the fetch queue running dry, sends them early);
  // there, each batch round trip costs the same whatever its size.
  int32_t batch_size = 500;
  int32_t batch_timeout_ms = 5;
  OrderingMode ordering = OrderingMode::kPartition;
  int32_t max_retries = 3;
  int32_t retry_backoff_ms = 1000;
  int32_t retry_backoff_max_ms = 30000;
  int32_t error_threshold = 10;
  // REJECTs are the handler's verdict on a message, already handled by the
  // dead-letter path; only RETRYs and ack timeouts (a failing dependency)
  // count toward error_threshold unless this is set.
  bool error_threshold_counts_rejects = false;
  int32_t error_window_ms = 60000;
  int32_t pause_duration_ms = 30000;
  int32_t ack_timeout_ms = 30000;
  // How far past now one Extend may move a batch's deadline (Pub/Sub's
  // maximum ack extension): a longer extend_ms is cut to this. At least
  // ack_timeout_ms, since an Extend without a length asks for that much.
  int32_t max_extension_ms = 600000;
  std::string dead_letter_topic;    // empty = none
  // What a message whose dead-letter produce fails for good (too large for
  // the topic, not authorized, no such topic) does to its partition:
  // "pause" it until the produce succeeds (retried every minute, and at once
  // on ResumePartitions), or "skip" the message with an error log.
  std::string dead_letter_on_permanent_failure = "pause";
  // Room for about ten full batches, so a handler working several
  // partitions is not starved; max_in_flight_bytes bounds the memory.
  uint32_t max_in_flight_messages = 5000;
  uint64_t max_in_flight_bytes = 16ull << 20;
  int32_t commit_interval_ms = 1000;
  int32_t revoke_timeout_ms = 10000;
  int32_t drain_timeout_ms = 15000;
};

struct TlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // set = mTLS
};

struct ServerConfig {
  std::string grpc_listen = "127.0.0.1:50051";  // host:port or unix:/path
  std::string http_listen = "127.0.0.1:8080";   // empty = disabled
  // A second gRPC listener with the same service, where PausePartitions and
  // ResumePartitions are always allowed; host:port or unix:/path, empty =
  // none.
  std::string operator_listen;
  // Who may call PausePartitions / ResumePartitions on grpc_listen: "any",
  // "operator_listener" (nobody there; only on operator_listen) or
  // "tls_identities" (mTLS clients whose certificate names one of
  // operator_identities).
  std::string operator_rpcs = "any";
  std::vector<std::string> operator_identities;  // SAN (DNS, URI) or CN
  TlsConfig tls;
};

struct ObservabilityConfig {
  std::string log_level = "info";  // trace|debug|info|warn|error|critical|off
  std::string log_format = "text";  // text | json
  int32_t stats_interval_ms = 60000;  // 0 = no stats line
  int32_t health_check_interval_ms = 5000;
  int32_t stall_timeout_ms = 60000;
};

struct Config {
  KafkaConfig kafka;
  ProcessingConfig processing;
  ServerConfig server;
  ObservabilityConfig observability;
};

}  // namespace kafka_sidecar
