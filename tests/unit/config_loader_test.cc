#include "sidecar/config/config_loader.h"

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace kafka_sidecar {
namespace {

// Every field as "dotted.key" -> text, so whole configs compare in one
// EXPECT_EQ with a readable diff. Must list every field of config.h.
std::map<std::string, std::string> Flatten(const Config& c) {
  const KafkaConfig& k = c.kafka;
  const ProcessingConfig& p = c.processing;
  const ServerConfig& s = c.server;
  const ObservabilityConfig& o = c.observability;
  std::map<std::string, std::string> m = {
      {"kafka.bootstrap_servers", k.bootstrap_servers},
      {"kafka.group_id", k.group_id},
      {"kafka.topics", absl::StrJoin(k.topics, "|")},
      {"kafka.auto_offset_reset", k.auto_offset_reset},
      {"kafka.enable_auto_commit", k.enable_auto_commit ? "true" : "false"},
      {"kafka.session_timeout_ms", absl::StrCat(k.session_timeout_ms)},
      {"kafka.heartbeat_interval_ms", absl::StrCat(k.heartbeat_interval_ms)},
      {"kafka.fetch_min_bytes", absl::StrCat(k.fetch_min_bytes)},
      {"kafka.fetch_max_wait_ms", absl::StrCat(k.fetch_max_wait_ms)},
      {"kafka.properties",
       absl::StrJoin(k.properties, "|", absl::PairFormatter("="))},
      {"processing.max_workers", absl::StrCat(p.max_workers)},
      {"processing.partition_workers", absl::StrCat(p.partition_workers)},
      {"processing.batch_size", absl::StrCat(p.batch_size)},
      {"processing.batch_timeout_ms", absl::StrCat(p.batch_timeout_ms)},
      {"processing.ordering", OrderingModeName(p.ordering)},
      {"processing.max_retries", absl::StrCat(p.max_retries)},
      {"processing.retry_backoff_ms", absl::StrCat(p.retry_backoff_ms)},
      {"processing.retry_backoff_max_ms", absl::StrCat(p.retry_backoff_max_ms)},
      {"processing.error_threshold", absl::StrCat(p.error_threshold)},
      {"processing.error_window_ms", absl::StrCat(p.error_window_ms)},
      {"processing.pause_duration_ms", absl::StrCat(p.pause_duration_ms)},
      {"processing.ack_timeout_ms", absl::StrCat(p.ack_timeout_ms)},
      {"processing.max_extension_ms", absl::StrCat(p.max_extension_ms)},
      {"processing.dead_letter_topic", p.dead_letter_topic},
      {"processing.dead_letter_on_permanent_failure", p.dead_letter_on_permanent_failure},
      {"processing.max_in_flight_messages",
       absl::StrCat(p.max_in_flight_messages)},
      {"processing.max_in_flight_bytes", absl::StrCat(p.max_in_flight_bytes)},
      {"processing.commit_interval_ms", absl::StrCat(p.commit_interval_ms)},
      {"processing.revoke_timeout_ms", absl::StrCat(p.revoke_timeout_ms)},
      {"processing.drain_timeout_ms", absl::StrCat(p.drain_timeout_ms)},
      {"server.grpc_listen", s.grpc_listen},
      {"server.http_listen", s.http_listen},
      {"server.operator_listen", s.operator_listen},
      {"server.operator_rpcs", s.operator_rpcs},
      {"server.operator_identities", absl::StrJoin(s.operator_identities, "|")},
      {"server.tls.cert_file", s.tls.cert_file},
      {"server.tls.key_file", s.tls.key_file},
      {"server.tls.client_ca_file", s.tls.client_ca_file},
      {"observability.log_level", o.log_level},
      {"observability.log_format", o.log_format},
      {"observability.stats_interval_ms", absl::StrCat(o.stats_interval_ms)},
      {"observability.health_check_interval_ms",
       absl::StrCat(o.health_check_interval_ms)},
      {"observability.stall_timeout_ms", absl::StrCat(o.stall_timeout_ms)},
  };
  return m;
}

// Every key set to a value different from its default.
constexpr char kFullConfig[] = R"yaml(
kafka:
  bootstrap_servers: "broker-1:9092,broker-2:9092"
  group_id: orders-sidecar
  topics: [orders, payments]
  auto_offset_reset: latest
  enable_auto_commit: true
  session_timeout_ms: 30000
  heartbeat_interval_ms: 2500
  fetch_min_bytes: 1024
  fetch_max_wait_ms: 250
  properties:
    security.protocol: SASL_SSL
    client.rack: eu-west-1a
processing:
  max_workers: 8
  partition_workers: 2
  batch_size: 250
  batch_timeout_ms: 20
  ordering: none
  max_retries: 5
  retry_backoff_ms: 200
  retry_backoff_max_ms: 10000
  error_threshold: 20
  error_window_ms: 120000
  pause_duration_ms: 5000
  ack_timeout_ms: 60000
  max_extension_ms: 900000
  dead_letter_topic: orders.dlq
  dead_letter_on_permanent_failure: skip
  max_in_flight_messages: 2500
  max_in_flight_bytes: 67108864
  commit_interval_ms: 2000
  revoke_timeout_ms: 20000
  drain_timeout_ms: 30000
server:
  grpc_listen: unix:/var/run/sidecar/grpc.sock
  http_listen: 0.0.0.0:9090
  operator_listen: unix:/var/run/sidecar/operator.sock
  operator_rpcs: tls_identities
  operator_identities: [ops.example.com, "spiffe://prod/ns/ops/sa/oncall"]
  tls:
    cert_file: /etc/tls/tls.crt
    key_file: /etc/tls/tls.key
    client_ca_file: /etc/tls/ca.crt
observability:
  log_level: debug
  log_format: json
  stats_interval_ms: 0
  health_check_interval_ms: 1000
  stall_timeout_ms: 120000
)yaml";

const std::map<std::string, std::string> kFullExpected = {
    {"kafka.bootstrap_servers", "broker-1:9092,broker-2:9092"},
    {"kafka.group_id", "orders-sidecar"},
    {"kafka.topics", "orders|payments"},
    {"kafka.auto_offset_reset", "latest"},
    {"kafka.enable_auto_commit", "true"},
    {"kafka.session_timeout_ms", "30000"},
    {"kafka.heartbeat_interval_ms", "2500"},
    {"kafka.fetch_min_bytes", "1024"},
    {"kafka.fetch_max_wait_ms", "250"},
    {"kafka.properties", "client.rack=eu-west-1a|security.protocol=SASL_SSL"},
    {"processing.max_workers", "8"},
    {"processing.partition_workers", "2"},
    {"processing.batch_size", "250"},
    {"processing.batch_timeout_ms", "20"},
    {"processing.ordering", "none"},
    {"processing.max_retries", "5"},
    {"processing.retry_backoff_ms", "200"},
    {"processing.retry_backoff_max_ms", "10000"},
    {"processing.error_threshold", "20"},
    {"processing.error_window_ms", "120000"},
    {"processing.pause_duration_ms", "5000"},
    {"processing.ack_timeout_ms", "60000"},
    {"processing.max_extension_ms", "900000"},
    {"processing.dead_letter_topic", "orders.dlq"},
    {"processing.dead_letter_on_permanent_failure", "skip"},
    {"processing.max_in_flight_messages", "2500"},
    {"processing.max_in_flight_bytes", "67108864"},
    {"processing.commit_interval_ms", "2000"},
    {"processing.revoke_timeout_ms", "20000"},
    {"processing.drain_timeout_ms", "30000"},
    {"server.grpc_listen", "unix:/var/run/sidecar/grpc.sock"},
    {"server.http_listen", "0.0.0.0:9090"},
    {"server.operator_listen", "unix:/var/run/sidecar/operator.sock"},
    {"server.operator_rpcs", "tls_identities"},
    {"server.operator_identities", "ops.example.com|spiffe://prod/ns/ops/sa/oncall"},
    {"server.tls.cert_file", "/etc/tls/tls.crt"},
    {"server.tls.key_file", "/etc/tls/tls.key"},
    {"server.tls.client_ca_file", "/etc/tls/ca.crt"},
    {"observability.log_level", "debug"},
    {"observability.log_format", "json"},
    {"observability.stats_interval_ms", "0"},
    {"observability.health_check_interval_ms", "1000"},
    {"observability.stall_timeout_ms", "120000"},
};

// The smallest valid document: topics have no default.
constexpr char kMinimal[] = "kafka:\n  topics: [orders]\n";

std::string WriteTempFile(const std::string& name, const std::string& text) {
  const std::string path = absl::StrCat(testing::TempDir(), "/", name);
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigLoaderTest, EmptyDocumentKeepsEveryDefault) {
  for (const char* empty : {"", "\n", "# only a comment\n", "---\n", "~\n"}) {
    SCOPED_TRACE(absl::StrCat("document: '", empty, "'"));
    Config config;
    config.kafka.topics = {"set-before"};
    ASSERT_TRUE(MergeConfigYaml(empty, &config).ok());
    Config expected;
    expected.kafka.topics = {"set-before"};
    EXPECT_EQ(Flatten(config), Flatten(expected));
  }
}

TEST(ConfigLoaderTest, DocumentedDefaults) {
  const Config d;
  EXPECT_EQ(d.kafka.bootstrap_servers, "localhost:9092");
  EXPECT_EQ(d.kafka.auto_offset_reset, "earliest");
  EXPECT_FALSE(d.kafka.enable_auto_commit);
  EXPECT_EQ(d.processing.ordering, OrderingMode::kPartition);
  EXPECT_EQ(d.processing.partition_workers, 1);
  EXPECT_EQ(d.observability.log_format, "text");
  EXPECT_EQ(d.server.operator_listen, "");
  EXPECT_EQ(d.server.operator_rpcs, "any");
  EXPECT_TRUE(d.server.operator_identities.empty());
  // The defaults themselves must pass validation once topics are given.
  Config with_topics;
  with_topics.kafka.topics = {"t"};
  EXPECT_TRUE(ValidateConfig(with_topics).ok());
}

TEST(ConfigLoaderTest, EmptyDocumentFailsOnlyForMissingTopics) {
  const absl::StatusOr<Config> config = ParseConfigYaml("");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(),
            "kafka.topics: must list at least one topic");
}

TEST(ConfigLoaderTest, MinimalDocumentGivesDefaultsElsewhere) {
  const absl::StatusOr<Config> config = ParseConfigYaml(kMinimal);
  ASSERT_TRUE(config.ok()) << config.status();
  Config expected;
  expected.kafka.topics = {"orders"};
  EXPECT_EQ(Flatten(*config), Flatten(expected));
}

TEST(ConfigLoaderTest, FullFileSetsEveryKey) {
  const absl::StatusOr<Config> config = ParseConfigYaml(kFullConfig);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(Flatten(*config), kFullExpected);
  // Guards the test itself: a key left at its default would prove nothing.
  const std::map<std::string, std::string> defaults = Flatten(Config{});
  ASSERT_EQ(defaults.size(), kFullExpected.size());
  for (const auto& [key, value] : kFullExpected) {
    EXPECT_NE(defaults.at(key), value) << key << " equals its default";
  }
}

TEST(ConfigLoaderTest, LoadConfigFileReadsTheFile) {
  const std::string path = WriteTempFile("full.yaml", kFullConfig);
  const absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(Flatten(*config), kFullExpected);
}

TEST(ConfigLoaderTest, PropertiesPassThroughAsStrings) {
  const absl::StatusOr<Config> config = ParseConfigYaml(R"yaml(
kafka:
  topics: [t]
  properties:
    security.protocol: SASL_SSL
    socket.keepalive.enable: true
    fetch.error.backoff.ms: 500
    some.ratio: 1.5
    sasl.password: "0123"
    client.id: 0x10
)yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  const std::map<std::string, std::string> expected = {
      {"security.protocol", "SASL_SSL"}, {"socket.keepalive.enable", "true"},
      {"fetch.error.backoff.ms", "500"}, {"some.ratio", "1.5"},
      {"sasl.password", "0123"},         {"client.id", "0x10"},
  };
  EXPECT_EQ(config->kafka.properties, expected);
}

TEST(ConfigLoaderTest, TopicsAcceptCommaSeparatedString) {
  const absl::StatusOr<Config> config =
      ParseConfigYaml("kafka: {topics: 'orders, payments ,refunds'}");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->kafka.topics,
            (std::vector<std::string>{"orders", "payments", "refunds"}));
}

TEST(ConfigLoaderTest, GroupProtocols) {
  absl::StatusOr<Config> classic = ParseConfigYaml(kMinimal);
  ASSERT_TRUE(classic.ok()) << classic.status();
  EXPECT_EQ(classic->kafka.group_protocol, "classic");
  // The broker-side assignor may be chosen; the session keys keep their
  // defaults (which the consumer protocol never sends).
  absl::StatusOr<Config> consumer = ParseConfigYaml(
      "kafka: {topics: [t], group_protocol: consumer, "
      "properties: {group.remote.assignor: uniform}}");
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  EXPECT_EQ(consumer->kafka.group_protocol, "consumer");
  EXPECT_EQ(consumer->kafka.properties.at("group.remote.assignor"), "uniform");
}

TEST(ConfigLoaderTest, AcceptedSpellings) {
  const char* const docs[] = {
      "server: {grpc_listen: '[::1]:50051'}",
      "server: {grpc_listen: '0.0.0.0:1', http_listen: '[::]:65535'}",
      "server: {grpc_listen: 'unix:/tmp/s.sock', http_listen: ''}",
      "server: {grpc_listen: 'sidecar-0.local:50051', http_listen: ~}",
      "processing: {batch_size: '7',"
      " max_in_flight_bytes: 18446744073709551615}",
      "processing: {retry_backoff_ms: 50, retry_backoff_max_ms: 50}",
      "processing: {max_workers: 1024, dead_letter_topic: }",
      "processing: {ordering: partition}",
      "observability: {log_level: 'off'}",
      "server: {tls: {cert_file: a, key_file: b}}",
      "server: {operator_listen: '127.0.0.1:50052', operator_rpcs: operator_listener}",
      "server: {operator_listen: 'unix:/run/ops.sock', operator_rpcs: any}",
      "server: {operator_rpcs: tls_identities, operator_identities: 'a.example, b',"
      " tls: {cert_file: c, key_file: k, client_ca_file: ca}}",
  };
  for (const char* doc : docs) {
    SCOPED_TRACE(doc);
    const absl::StatusOr<Config> config =
        ParseConfigYaml(absl::StrCat(kMinimal, doc));
    EXPECT_TRUE(config.ok()) << config.status();
  }
}

struct BadCase {
  // Appended to kMinimal, or taken whole (minus the '!') when the case needs
  // its own kafka section.
  const char* doc;
  const char* prefix;  // the message must start with this
};

TEST(ConfigLoaderTest, BadValuesNameTheKey) {
  const BadCase cases[] = {
      // Structure.
      {"!just a string", "config: must be a map"},
      {"!- a\n- b\n", "config: must be a map"},
      {"metrics: {port: 1}", "metrics: unknown key"},
      {"processing: {bach_size: 1}", "processing.bach_size: unknown key"},
      {"server: {tls: {ca_file: x}}", "server.tls.ca_file: unknown key"},
      {"processing: [1, 2]", "processing: must be a map"},
      {"server: {tls: yes}", "server.tls: must be a map"},
      {"processing: {batch_size: 1, batch_size: 2}",
       "processing.batch_size: duplicate key"},
      {"!kafka: {topics: [t]}\nkafka: {group_id: g}", "kafka: duplicate key"},
      {"!kafka: {topics: [t]}\n---\nkafka: {topics: [u]}",
       "config: expected one YAML document, found 2"},
      // Types.
      {"processing: {batch_size: [1]}",
       "processing.batch_size: must be an integer"},
      {"processing: {batch_size: 12abc}",
       "processing.batch_size: must be an integer, got \"12abc\""},
      {"processing: {batch_size: 1.5}",
       "processing.batch_size: must be an integer"},
      {"processing: {batch_size: 0x10}",
       "processing.batch_size: must be an integer"},
      {"processing: {batch_size: }",
       "processing.batch_size: must be an integer"},
      {"processing: {batch_size: 2147483648}",
       "processing.batch_size: must be between -2147483648 and 2147483647"},
      {"processing: {max_in_flight_messages: -1}",
       "processing.max_in_flight_messages: must be between 0 and 4294967295"},
      {"processing: {max_in_flight_bytes: 18446744073709551616}",
       "processing.max_in_flight_bytes: must be between 0 and"},
      {"!kafka: {topics: [t], enable_auto_commit: maybe}",
       "kafka.enable_auto_commit: must be true or false"},
      {"!kafka: {topics: [t], group_id: {a: 1}}",
       "kafka.group_id: must be a string"},
      {"!kafka: {topics: {a: b}}", "kafka.topics: must be a list of strings"},
      {"!kafka: {topics: [a, [b]]}", "kafka.topics: must be a list of strings"},
      {"!kafka: {topics: [t], properties: [a]}",
       "kafka.properties: must be a map"},
      {"!kafka: {topics: [t], properties: {client.id: [a]}}",
       "kafka.properties.client.id: must be a string, number or boolean"},
      // Ranges.
      {"processing: {batch_size: 0}",
       "processing.batch_size: must be at least 1, got 0"},
      {"processing: {max_workers: 0}",
       "processing.max_workers: must be between 1 and 1024, got 0"},
      {"processing: {max_workers: 1025}",
       "processing.max_workers: must be between 1 and 1024, got 1025"},
      {"processing: {partition_workers: 0}",
       "processing.partition_workers: must be at least 1"},
      {"processing: {batch_timeout_ms: -1}",
       "processing.batch_timeout_ms: must be at least 0"},
      {"processing: {commit_interval_ms: 0}",
       "processing.commit_interval_ms: must be at least 1"},
      {"processing: {max_in_flight_messages: 0}",
       "processing.max_in_flight_messages: must be at least 1"},
      {"processing: {max_in_flight_bytes: 0}",
       "processing.max_in_flight_bytes: must be at least 1"},
      {"processing: {drain_timeout_ms: -5}",
       "processing.drain_timeout_ms: must be at least 0"},
      {"!kafka: {topics: [t], session_timeout_ms: 0}",
       "kafka.session_timeout_ms: must be at least 1"},
      {"observability: {stats_interval_ms: -1}",
       "observability.stats_interval_ms: must be at least 0"},
      // Enums.
      {"!kafka: {topics: [t], auto_offset_reset: smallest}",
       "kafka.auto_offset_reset: must be one of earliest, latest; "
       "got \"smallest\""},
      {"!kafka: {topics: [t], group_protocol: cooperative}",
       "kafka.group_protocol: must be one of classic, consumer; got \"cooperative\""},
      {"!kafka: {topics: [t], properties: {group.protocol: consumer}}",
       "kafka.properties.group.protocol: set kafka.group_protocol instead"},
      // Under the consumer protocol the broker assigns and owns the session.
      {"!kafka: {topics: [t], group_protocol: consumer, session_timeout_ms: 10000}",
       "kafka.session_timeout_ms: does not apply with kafka.group_protocol: consumer"},
      {"!kafka: {topics: [t], group_protocol: consumer, heartbeat_interval_ms: 1000}",
       "kafka.heartbeat_interval_ms: does not apply with kafka.group_protocol: consumer"},
      {"!kafka: {topics: [t], group_protocol: consumer, "
       "properties: {partition.assignment.strategy: range}}",
       "kafka.properties.partition.assignment.strategy: does not apply with "
       "kafka.group_protocol: consumer (the broker assigns; kafka.properties."
       "group.remote.assignor"},
      {"!kafka: {topics: [t], group_protocol: consumer, properties: {group.protocol.type: c}}",
       "kafka.properties.group.protocol.type: does not apply"},
      {"processing: {ordering: strict}",
       "processing.ordering: must be one of partition, none; got \"strict\""},
      {"processing: {dead_letter_on_permanent_failure: drop}",
       "processing.dead_letter_on_permanent_failure: must be one of pause, skip; got \"drop\""},
      {"observability: {log_level: verbose}",
       "observability.log_level: must be one of"},
      {"observability: {log_format: xml}",
       "observability.log_format: must be one of"},
      // Listen addresses.
      {"server: {grpc_listen: localhost}",
       "server.grpc_listen: must be host:port"},
      {"server: {grpc_listen: 'localhost:0'}",
       "server.grpc_listen: port must be between 1 and 65535"},
      {"server: {grpc_listen: 'localhost:65536'}",
       "server.grpc_listen: port must be"},
      {"server: {grpc_listen: 'localhost:+80'}",
       "server.grpc_listen: port must be"},
      {"server: {grpc_listen: ':50051'}",
       "server.grpc_listen: must be host:port"},
      {"server: {grpc_listen: '::1:50051'}",
       "server.grpc_listen: must be host:port"},
      {"server: {grpc_listen: '[fe80::1%eth0]:1'}",
       "server.grpc_listen: invalid IPv6 address"},
      {"server: {grpc_listen: 'unix:sidecar.sock'}",
       "server.grpc_listen: unix socket path must be absolute"},
      {"server: {grpc_listen: 'unix:/'}",
       "server.grpc_listen: unix socket path must be absolute"},
      {"server: {grpc_listen: ''}", "server.grpc_listen: must be host:port"},
      {"server: {http_listen: 'unix:/tmp/h.sock'}",
       "server.http_listen: must be host:port"},
      {"server: {http_listen: 8080}", "server.http_listen: must be host:port"},
      {"server: {operator_listen: 'unix:ops.sock'}",
       "server.operator_listen: unix socket path must be absolute"},
      {"server: {operator_listen: 'nowhere'}", "server.operator_listen: must be host:port"},
      {"server: {operator_listen: '127.0.0.1:50051'}",
       "server.operator_listen: must differ from server.grpc_listen"},
      {"server: {operator_rpcs: nobody}",
       "server.operator_rpcs: must be one of any, operator_listener, tls_identities; got "
       "\"nobody\""},
      {"server: {operator_identities: {a: b}}",
       "server.operator_identities: must be a list of strings, got a map"},
      // Cross-field rules.
      {"server: {tls: {cert_file: c}}",
       "server.tls.key_file: must be set when server.tls.cert_file is set"},
      {"server: {tls: {key_file: k}}",
       "server.tls.cert_file: must be set when server.tls.key_file is set"},
      {"server: {tls: {client_ca_file: ca}}",
       "server.tls.client_ca_file: requires server.tls.cert_file"},
      {"server: {operator_rpcs: operator_listener}",
       "server.operator_rpcs: operator_listener requires server.operator_listen"},
      {"server: {operator_rpcs: tls_identities, operator_identities: [ops]}",
       "server.operator_rpcs: tls_identities requires mutual TLS"},
      {"server: {operator_rpcs: tls_identities, operator_identities: [ops],"
       " tls: {cert_file: c, key_file: k}}",
       "server.operator_rpcs: tls_identities requires mutual TLS"},
      {"server: {operator_rpcs: tls_identities,"
       " tls: {cert_file: c, key_file: k, client_ca_file: ca}}",
       "server.operator_identities: must list at least one identity"},
      {"server: {operator_rpcs: tls_identities, operator_identities: [ops, ''],"
       " tls: {cert_file: c, key_file: k, client_ca_file: ca}}",
       "server.operator_identities: identities must not be empty"},
      {"server: {operator_rpcs: any, operator_identities: [ops]}",
       "server.operator_identities: is only used with server.operator_rpcs: tls_identities"},
      {"server: {grpc_listen: 'unix:/tmp/a-path-that-is-exactly-one-hundred-bytes-long/"
       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.sock'}",
       "server.grpc_listen: unix socket path longer than 99 bytes"},
      {"!kafka: {topics: [t], session_timeout_ms: 3000,"
       " heartbeat_interval_ms: 3000}",
       "kafka.heartbeat_interval_ms: must be less than "
       "kafka.session_timeout_ms (3000), got 3000"},
      {"processing: {retry_backoff_ms: 2000, retry_backoff_max_ms: 1000}",
       "processing.retry_backoff_ms: must not exceed"},
      {"processing: {max_extension_ms: 0}",
       "processing.max_extension_ms: must be at least 1, got 0"},
      {"!kafka: {topics: []}", "kafka.topics: must list at least one topic"},
      {"!kafka: {topics: ''}", "kafka.topics: must list at least one topic"},
      {"!kafka: {topics: 'a,,b'}",
       "kafka.topics: topic names must not be empty"},
      {"!kafka: {topics: [a, '']}",
       "kafka.topics: topic names must not be empty"},
      {"!kafka: {topics: [t], bootstrap_servers: ''}",
       "kafka.bootstrap_servers: is required"},
      {"!kafka: {topics: [t], group_id: ''}", "kafka.group_id: is required"},
      {"!kafka: {topics: [t], properties: {group.id: other}}",
       "kafka.properties.group.id: set kafka.group_id instead"},
      // The sidecar stores offsets itself; librdkafka storing them would
      // commit unsettled messages.
      {"!kafka: {topics: [t], properties: {enable.auto.offset.store: 'true'}}",
       "kafka.properties.enable.auto.offset.store: set kafka.enable_auto_commit instead"},
  };
  for (const BadCase& c : cases) {
    const std::string doc = c.doc[0] == '!'
                                ? std::string(c.doc + 1)
                                : absl::StrCat(kMinimal, c.doc);
    SCOPED_TRACE(doc);
    const absl::StatusOr<Config> config = ParseConfigYaml(doc);
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(config.status().message(), c.prefix))
        << "message: " << config.status().message() << "\nwanted: " << c.prefix;
  }
}

TEST(ConfigLoaderTest, ParseErrorsGiveTheLine) {
  const absl::StatusOr<Config> config =
      ParseConfigYaml("kafka:\n  topics: [t]\nprocessing:\n  bach_size: 1\n");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "processing.bach_size: unknown key (line 4)");
}

TEST(ConfigLoaderTest, PropertyErrorsDoNotEchoTheValue) {
  const absl::StatusOr<Config> config = ParseConfigYaml(
      "kafka:\n  topics: [t]\n  properties:\n    sasl.password: [hunter2]\n");
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(absl::StartsWith(config.status().message(),
                               "kafka.properties.sasl.password:"))
      << config.status();
  EXPECT_FALSE(absl::StrContains(config.status().message(), "hunter2"));
}

TEST(ConfigLoaderTest, YamlSyntaxErrorGivesLineAndColumn) {
  // Line 5 is indented less than its siblings.
  const absl::StatusOr<Config> config = ParseConfigYaml(
      "kafka:\n  topics: [t]\nprocessing:\n  batch_size: 1\n x: 2\n");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(config.status().message(),
                               "YAML syntax error at line 5, column 2: "))
      << config.status();
}

TEST(ConfigLoaderTest, HostileInputReturnsErrorsInsteadOfThrowing) {
  const std::string inputs[] = {
      "{", "kafka: [", "\t", std::string("\0\xff\xfe", 3), "&a [*a]",
      "kafka: {topics: &x [*x]}", std::string(100000, '['), "? [a]\n: b\n",
      "kafka: {topics: *undefined}",
      // yaml-cpp 0.7 loops forever on a stray comma (found by config_fuzzer).
      ",", "k: v\n--- ,\n",
  };
  for (const std::string& input : inputs) {
    SCOPED_TRACE(input.substr(0, 40));
    absl::StatusOr<Config> config;
    EXPECT_NO_THROW(config = ParseConfigYaml(input));
    EXPECT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ConfigLoaderTest, UnreadableFileNamesThePath) {
  const std::string missing =
      absl::StrCat(testing::TempDir(), "/no-such-dir/sidecar.yaml");
  for (const std::string& path : {missing, testing::TempDir()}) {
    SCOPED_TRACE(path);
    const absl::StatusOr<Config> config = LoadConfigFile(path);
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(config.status().message(),
                                 absl::StrCat("config file ", path, ": ")))
        << config.status();
  }
}

TEST(ConfigLoaderTest, FileErrorsKeepTheKeyFirstAndNameThePath) {
  const std::string path =
      WriteTempFile("bad.yaml", "kafka: {topics: [t]}\n"
                                "processing: {batch_size: 0}\n");
  const absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            absl::StrCat(
                "processing.batch_size: must be at least 1, got 0 [in ", path,
                "]"));
}

TEST(ConfigLoaderTest, ValidateConfigChecksConfigsBuiltInCode) {
  Config config;
  config.kafka.topics = {"t"};
  config.processing.retry_backoff_ms = 5;
  config.processing.retry_backoff_max_ms = 4;
  EXPECT_TRUE(absl::StartsWith(ValidateConfig(config).message(),
                               "processing.retry_backoff_ms:"));
  config.processing.retry_backoff_max_ms = 5;
  config.processing.ordering = static_cast<OrderingMode>(7);
  EXPECT_TRUE(absl::StartsWith(ValidateConfig(config).message(),
                               "processing.ordering:"));
  config.processing.ordering = OrderingMode::kNone;
  EXPECT_TRUE(ValidateConfig(config).ok());
}

TEST(ConfigLoaderTest, MergeOverlaysOnlyThePresentKeys) {
  Config config;
  config.processing.batch_size = 42;
  config.kafka.properties["client.id"] = "keep";
  ASSERT_TRUE(MergeConfigYaml(
                  "processing: {max_retries: 9}\n"
                  "kafka: {properties: {client.rack: r1}}",
                  &config)
                  .ok());
  EXPECT_EQ(config.processing.batch_size, 42);
  EXPECT_EQ(config.processing.max_retries, 9);
  EXPECT_EQ(config.kafka.properties.at("client.id"), "keep");
  EXPECT_EQ(config.kafka.properties.at("client.rack"), "r1");
}

TEST(ConfigLoaderTest, OrderingModeNames) {
  EXPECT_EQ(OrderingModeName(OrderingMode::kPartition), "partition");
  EXPECT_EQ(OrderingModeName(OrderingMode::kNone), "none");
}

}  // namespace
}  // namespace kafka_sidecar
