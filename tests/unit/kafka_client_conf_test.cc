// The librdkafka configurations start-up builds, built alone: what
// --validate runs (CheckKafkaClientConfigs) and SidecarApp::Create runs are
// the same builders, so the two cannot disagree about a property.
#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sidecar/app/sidecar_app.h"
#include "sidecar/deadletter/dead_letter_producer_impl.h"
#include "sidecar/kafka/kafka_consumer_impl.h"

namespace kafka_sidecar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

std::string Get(rd_kafka_conf_t* conf, const char* name) {
  char value[512];
  size_t size = sizeof(value);
  if (rd_kafka_conf_get(conf, name, value, &size) != RD_KAFKA_CONF_OK) return "<unset>";
  return value;
}

Config Base() {
  Config c;
  c.kafka.topics = {"orders"};
  c.kafka.group_id = "orders-group";
  c.kafka.bootstrap_servers = "broker-1:9092";
  return c;
}

TEST(KafkaClientConfTest, TheConsumerGetsTheSidecarsSettingsAndTheProperties) {
  Config c = Base();
  c.kafka.properties = {{"client.rack", "az-1"}, {"fetch.max.bytes", "1048576"}};
  ConfPtr conf(rd_kafka_conf_new());
  ASSERT_TRUE(KafkaConsumerImpl::BuildConf(c, conf.get()).ok());
  EXPECT_EQ(Get(conf.get(), "group.id"), "orders-group");
  EXPECT_EQ(Get(conf.get(), "bootstrap.servers"), "broker-1:9092");
  EXPECT_EQ(Get(conf.get(), "enable.auto.commit"), "false");
  EXPECT_EQ(Get(conf.get(), "client.rack"), "az-1");
  EXPECT_EQ(Get(conf.get(), "fetch.max.bytes"), "1048576");
}

TEST(KafkaClientConfTest, TheDeadLetterProducerIsIdempotentAndSkipsConsumerProperties) {
  Config c = Base();
  c.processing.dead_letter_topic = "orders.dlt";
  c.kafka.properties = {{"client.rack", "az-1"}, {"fetch.max.bytes", "1048576"}};
  ConfPtr conf(rd_kafka_conf_new());
  ASSERT_TRUE(DeadLetterProducerImpl::BuildConf(c, conf.get()).ok());
  EXPECT_EQ(Get(conf.get(), "enable.idempotence"), "true");
  EXPECT_EQ(Get(conf.get(), "client.rack"), "az-1");
  // A consumer-only property is left at librdkafka's default.
  EXPECT_NE(Get(conf.get(), "fetch.max.bytes"), "1048576");
}

TEST(CheckKafkaClientConfigsTest, AGoodConfigurationPasses) {
  Config c = Base();
  c.kafka.properties = {{"security.protocol", "SASL_SSL"}, {"sasl.mechanisms", "PLAIN"},
                        {"sasl.password", "hunter2"}};
  EXPECT_TRUE(CheckKafkaClientConfigs(c).ok()) << CheckKafkaClientConfigs(c);
  c.processing.dead_letter_topic = "orders.dlt";
  EXPECT_TRUE(CheckKafkaClientConfigs(c).ok()) << CheckKafkaClientConfigs(c);
}

TEST(CheckKafkaClientConfigsTest, ABadValueIsNamedWithLibrdkafkasReason) {
  Config c = Base();
  c.kafka.properties = {{"fetch.max.bytes", "banana"}};
  const absl::Status s = CheckKafkaClientConfigs(c);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(s.message(),
            "kafka.properties.fetch.max.bytes: Invalid value for configuration property "
            "\"fetch.max.bytes\"");
}

TEST(CheckKafkaClientConfigsTest, AnUnknownPropertyIsNamed) {
  Config c = Base();
  c.kafka.properties = {{"fetch.max.byts", "1000"}};
  const absl::Status s = CheckKafkaClientConfigs(c);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(std::string(s.message()), StartsWith("kafka.properties.fetch.max.byts: "));
  EXPECT_THAT(std::string(s.message()), HasSubstr("No such configuration property"));
}

TEST(CheckKafkaClientConfigsTest, ASecretsValueIsNeverShown) {
  Config c = Base();
  // Secret by name (IsSecretProperty), and unknown to librdkafka.
  c.kafka.properties = {{"ssl.keystore.passwd", "hunter2-secret"}};
  const absl::Status s = CheckKafkaClientConfigs(c);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(std::string(s.message()), StartsWith("kafka.properties.ssl.keystore.passwd: "));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("hunter2")));
}

}  // namespace
}  // namespace kafka_sidecar
