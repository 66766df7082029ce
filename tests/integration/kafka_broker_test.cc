// The KafkaBroker test fixture against a real broker: librdkafka produces and
// consumes through it, and Kafka's own tools (via scripts/kafka.sh) read back
// the log-end and committed offsets.
#include "tests/support/kafka_broker.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace kafka_sidecar::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPartitions = 3;
constexpr int kMessages = 300;

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using RdKafkaPtr = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

::testing::AssertionResult SetConf(rd_kafka_conf_t* conf, const char* key, const char* value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key, value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    return ::testing::AssertionFailure() << key << "=" << value << ": " << err;
  }
  return ::testing::AssertionSuccess();
}

struct DeliveryCounts {
  int delivered = 0;
  int failed = 0;
  std::string last_error;
};

void OnDelivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* msg, void* opaque) {
  auto* counts = static_cast<DeliveryCounts*>(opaque);
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++counts->delivered;
  } else {
    ++counts->failed;
    counts->last_error = rd_kafka_err2str(msg->err);
  }
}

// Produces `count` messages round-robin over the partitions of `topic`,
// acks=all, and checks every delivery report.
void Produce(const std::string& bootstrap, const std::string& topic, int count) {
  ConfPtr conf(rd_kafka_conf_new());
  ASSERT_TRUE(SetConf(conf.get(), "bootstrap.servers", bootstrap.c_str()));
  ASSERT_TRUE(SetConf(conf.get(), "acks", "all"));
  ASSERT_TRUE(SetConf(conf.get(), "enable.idempotence", "true"));
  ASSERT_TRUE(SetConf(conf.get(), "linger.ms", "5"));
  DeliveryCounts counts;
  rd_kafka_conf_set_dr_msg_cb(conf.get(), OnDelivery);
  rd_kafka_conf_set_opaque(conf.get(), &counts);
  char err[512];
  RdKafkaPtr producer(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), err, sizeof(err)));
  ASSERT_NE(producer, nullptr) << err;
  conf.release();  // owned by the producer now

  const auto deadline = Clock::now() + std::chrono::seconds(60);
  for (int i = 0; i < count; ++i) {
    std::string key = "key-" + std::to_string(i);
    std::string value = "value-" + std::to_string(i);
    rd_kafka_resp_err_t rc;
    do {
      rc = rd_kafka_producev(
          producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
          RD_KAFKA_V_PARTITION(i % kPartitions), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key.data(), key.size()),
          RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_END);
      if (rc == RD_KAFKA_RESP_ERR__QUEUE_FULL) rd_kafka_poll(producer.get(), 100);
    } while (rc == RD_KAFKA_RESP_ERR__QUEUE_FULL && Clock::now() < deadline);
    ASSERT_EQ(rc, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(rc);
    rd_kafka_poll(producer.get(), 0);
  }
  ASSERT_EQ(rd_kafka_flush(producer.get(), 60000), RD_KAFKA_RESP_ERR_NO_ERROR)
      << rd_kafka_outq_len(producer.get()) << " messages not delivered in time";
  EXPECT_EQ(counts.failed, 0) << counts.last_error;
  EXPECT_EQ(counts.delivered, count);
}

// Consumes `count` messages of `topic` in `group`, from the beginning, and
// commits their offsets synchronously.
void ConsumeAndCommit(const std::string& bootstrap, const std::string& group,
                      const std::string& topic, int count) {
  ConfPtr conf(rd_kafka_conf_new());
  ASSERT_TRUE(SetConf(conf.get(), "bootstrap.servers", bootstrap.c_str()));
  ASSERT_TRUE(SetConf(conf.get(), "group.id", group.c_str()));
  ASSERT_TRUE(SetConf(conf.get(), "auto.offset.reset", "earliest"));
  ASSERT_TRUE(SetConf(conf.get(), "enable.auto.commit", "false"));
  char err[512];
  RdKafkaPtr consumer(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), err, sizeof(err)));
  ASSERT_NE(consumer, nullptr) << err;
  conf.release();
  rd_kafka_poll_set_consumer(consumer.get());

  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t rc = rd_kafka_subscribe(consumer.get(), topics);
  rd_kafka_topic_partition_list_destroy(topics);
  ASSERT_EQ(rc, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(rc);

  std::map<int32_t, int> per_partition;
  int received = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (received < count && Clock::now() < deadline) {
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(consumer.get(), 200);
    if (msg == nullptr) continue;
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++received;
      ++per_partition[msg->partition];
    } else if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ADD_FAILURE() << "consume error: " << rd_kafka_message_errstr(msg);
    }
    rd_kafka_message_destroy(msg);
  }
  ASSERT_EQ(received, count) << "messages consumed before the deadline";
  EXPECT_EQ(per_partition.size(), static_cast<size_t>(kPartitions));

  rc = rd_kafka_commit(consumer.get(), nullptr, /*async=*/0);
  EXPECT_EQ(rc, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(rc);
  rc = rd_kafka_consumer_close(consumer.get());
  EXPECT_EQ(rc, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(rc);
}

int64_t Sum(const std::map<int32_t, int64_t>& offsets) {
  int64_t sum = 0;
  for (const auto& [partition, offset] : offsets) sum += offset;
  return sum;
}

TEST(KafkaBrokerTest, CommittedOffsetsMatchEndOffsetsAfterConsuming) {
  absl::StatusOr<std::unique_ptr<KafkaBroker>> broker = KafkaBroker::Start();
  ASSERT_TRUE(broker.ok()) << broker.status();
  const std::string topic = "orders";
  ASSERT_TRUE((*broker)->CreateTopic(topic, kPartitions).ok());

  absl::StatusOr<std::map<int32_t, int64_t>> empty = (*broker)->EndOffsets(topic);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(*empty, (std::map<int32_t, int64_t>{{0, 0}, {1, 0}, {2, 0}}));

  ASSERT_NO_FATAL_FAILURE(Produce((*broker)->bootstrap(), topic, kMessages));

  // No group yet: nothing committed.
  absl::StatusOr<std::map<int32_t, int64_t>> none = (*broker)->CommittedOffsets("g1", topic);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());

  ASSERT_NO_FATAL_FAILURE(ConsumeAndCommit((*broker)->bootstrap(), "g1", topic, kMessages));

  absl::StatusOr<std::map<int32_t, int64_t>> end = (*broker)->EndOffsets(topic);
  ASSERT_TRUE(end.ok()) << end.status();
  absl::StatusOr<std::map<int32_t, int64_t>> committed =
      (*broker)->CommittedOffsets("g1", topic);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(end->size(), static_cast<size_t>(kPartitions));
  EXPECT_EQ(*committed, *end);
  EXPECT_EQ(Sum(*committed), kMessages);
  EXPECT_EQ(Sum(*end), kMessages);
}

TEST(KafkaBrokerTest, RestartKeepsData) {
  absl::StatusOr<std::unique_ptr<KafkaBroker>> broker = KafkaBroker::Start();
  ASSERT_TRUE(broker.ok()) << broker.status();
  const std::string topic = "events";
  ASSERT_TRUE((*broker)->CreateTopic(topic, kPartitions).ok());
  ASSERT_NO_FATAL_FAILURE(Produce((*broker)->bootstrap(), topic, kMessages));
  ASSERT_NO_FATAL_FAILURE(ConsumeAndCommit((*broker)->bootstrap(), "g1", topic, kMessages));

  absl::StatusOr<std::map<int32_t, int64_t>> end_before = (*broker)->EndOffsets(topic);
  ASSERT_TRUE(end_before.ok()) << end_before.status();
  absl::StatusOr<std::map<int32_t, int64_t>> committed_before =
      (*broker)->CommittedOffsets("g1", topic);
  ASSERT_TRUE(committed_before.ok()) << committed_before.status();
  const std::string bootstrap_before = (*broker)->bootstrap();

  absl::Status stopped = (*broker)->Stop();
  ASSERT_TRUE(stopped.ok()) << stopped;

  absl::Status restarted = (*broker)->Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;
  EXPECT_EQ((*broker)->bootstrap(), bootstrap_before);

  absl::StatusOr<std::map<int32_t, int64_t>> end_after = (*broker)->EndOffsets(topic);
  ASSERT_TRUE(end_after.ok()) << end_after.status();
  EXPECT_EQ(*end_after, *end_before);
  EXPECT_EQ(Sum(*end_after), kMessages);
  absl::StatusOr<std::map<int32_t, int64_t>> committed_after =
      (*broker)->CommittedOffsets("g1", topic);
  ASSERT_TRUE(committed_after.ok()) << committed_after.status();
  EXPECT_EQ(*committed_after, *committed_before);

  // The restarted broker takes new writes.
  ASSERT_NO_FATAL_FAILURE(Produce((*broker)->bootstrap(), topic, kPartitions));
  absl::StatusOr<std::map<int32_t, int64_t>> end_more = (*broker)->EndOffsets(topic);
  ASSERT_TRUE(end_more.ok()) << end_more.status();
  EXPECT_EQ(Sum(*end_more), kMessages + kPartitions);
}

// A metadata request through `bootstrap` as `user` over SASL_PLAINTEXT with
// `mechanism`, by librdkafka: OK, or librdkafka's error (authentication
// failures come to the error callback; the request itself only times out).
absl::Status LibrdkafkaSaslMetadata(const std::string& bootstrap, const std::string& mechanism,
                                    const SaslUser& user) {
  ConfPtr conf(rd_kafka_conf_new());
  for (const auto& [key, value] : std::map<std::string, std::string>{
           {"bootstrap.servers", bootstrap},
           {"security.protocol", "SASL_PLAINTEXT"},
           {"sasl.mechanisms", mechanism},
           {"sasl.username", user.username},
           {"sasl.password", user.password}}) {
    char err[512];
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), err, sizeof(err)) !=
        RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(key + ": " + err);
    }
  }
  std::string auth_error;
  rd_kafka_conf_set_opaque(conf.get(), &auth_error);
  rd_kafka_conf_set_error_cb(conf.get(), [](rd_kafka_t*, int err, const char* reason, void* opaque) {
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION) *static_cast<std::string*>(opaque) = reason;
  });
  char err[512];
  RdKafkaPtr client(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), err, sizeof(err)));
  if (client == nullptr) return absl::InternalError(err);
  conf.release();
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t rc = rd_kafka_metadata(client.get(), 1, nullptr, &metadata, 10000);
  if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
  rd_kafka_poll(client.get(), 0);  // serves the error callback
  if (!auth_error.empty()) return absl::UnauthenticatedError(auth_error);
  if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) return absl::UnavailableError(rd_kafka_err2str(rc));
  return absl::OkStatus();
}

TEST(KafkaBrokerTest, SaslListenerAuthenticatesItsUserAcrossRestarts) {
  const SaslUser user{"tester", "Sasl-Pw-7f3a"};
  const SaslUser impostor{user.username, "not-the-password"};
  absl::StatusOr<std::unique_ptr<KafkaBroker>> broker = KafkaBroker::Start(KafkaBrokerOptions{user});
  ASSERT_TRUE(broker.ok()) << broker.status();
  ASSERT_FALSE((*broker)->sasl_bootstrap().empty());
  EXPECT_NE((*broker)->sasl_bootstrap(), (*broker)->bootstrap());

  // Kafka's own client: every mechanism, and only with the right password.
  for (const char* mechanism : {"SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"}) {
    absl::Status login = (*broker)->SaslLogin(mechanism, user);
    EXPECT_TRUE(login.ok()) << login;
    EXPECT_EQ((*broker)->SaslLogin(mechanism, impostor).code(), absl::StatusCode::kUnauthenticated)
        << mechanism;
  }
  // librdkafka, as the sidecar links it.
  absl::Status plain = LibrdkafkaSaslMetadata((*broker)->sasl_bootstrap(), "PLAIN", user);
  EXPECT_TRUE(plain.ok()) << plain;
  EXPECT_EQ(LibrdkafkaSaslMetadata((*broker)->sasl_bootstrap(), "PLAIN", impostor).code(),
            absl::StatusCode::kUnauthenticated);

  // The PLAINTEXT listener still serves the tools.
  ASSERT_TRUE((*broker)->CreateTopic("secured", kPartitions).ok());
  ASSERT_NO_FATAL_FAILURE(Produce((*broker)->bootstrap(), "secured", kPartitions));

  const std::string sasl_before = (*broker)->sasl_bootstrap();
  ASSERT_TRUE((*broker)->Stop().ok());
  absl::Status restarted = (*broker)->Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;
  EXPECT_EQ((*broker)->sasl_bootstrap(), sasl_before);
  absl::Status again = LibrdkafkaSaslMetadata((*broker)->sasl_bootstrap(), "PLAIN", user);
  EXPECT_TRUE(again.ok()) << again;
  EXPECT_TRUE((*broker)->SaslLogin("SCRAM-SHA-512", user).ok());
}

// Kafka 3.9, the newest release whose brokers accept the SCRAM login of a
// librdkafka before 2.6.1: the same SASL listener, and librdkafka as the
// sidecar links it logs in there with either SCRAM mechanism.
TEST(KafkaBrokerTest, Kafka39SaslListenerAcceptsLibrdkafkaScram) {
  const SaslUser user{"tester", "Sasl-Pw-39c1"};
  const SaslUser impostor{user.username, "not-the-password"};
  KafkaBrokerOptions options;
  options.sasl = user;
  options.version = "3.9.1";
  absl::StatusOr<std::unique_ptr<KafkaBroker>> broker = KafkaBroker::Start(options);
  ASSERT_TRUE(broker.ok()) << broker.status();
  EXPECT_EQ((*broker)->version(), "3.9.1");

  for (const char* mechanism : {"SCRAM-SHA-256", "SCRAM-SHA-512"}) {
    absl::Status login = LibrdkafkaSaslMetadata((*broker)->sasl_bootstrap(), mechanism, user);
    EXPECT_TRUE(login.ok()) << mechanism << ": " << login;
  }
  // Not anyone, though (Kafka's client is told so at once; librdkafka only
  // after its request times out).
  EXPECT_EQ((*broker)->SaslLogin("SCRAM-SHA-256", impostor).code(),
            absl::StatusCode::kUnauthenticated);
  // Kafka's tools work against it as against the default release.
  ASSERT_TRUE((*broker)->CreateTopic("legacy", kPartitions).ok());
  ASSERT_NO_FATAL_FAILURE(Produce((*broker)->bootstrap(), "legacy", kPartitions));
  absl::StatusOr<std::map<int32_t, int64_t>> end = (*broker)->EndOffsets("legacy");
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_EQ(Sum(*end), kPartitions);
}

TEST(KafkaBrokerTest, UnsupportedVersionIsRefusedByName) {
  KafkaBrokerOptions options;
  options.version = "2.8.0";
  absl::StatusOr<std::unique_ptr<KafkaBroker>> broker = KafkaBroker::Start(options);
  ASSERT_FALSE(broker.ok());
  EXPECT_NE(broker.status().message().find("KAFKA_VERSION=2.8.0 is not supported"),
            std::string::npos)
      << broker.status();
}

}  // namespace
}  // namespace kafka_sidecar::testing
