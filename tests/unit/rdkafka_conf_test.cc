#include "sidecar/kafka/rdkafka_conf.h"

#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kafka_sidecar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string Message(const ConfSetter& setter) {
  return std::string(setter.status().message());
}

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};

TEST(ConfSetterTest, ARefusedValueIsQuotedForAnOrdinaryProperty) {
  std::unique_ptr<rd_kafka_conf_t, ConfDeleter> conf(rd_kafka_conf_new());
  ConfSetter setter(conf.get());
  setter.Set("security.protocol", "SASL_PLAINTXT", "kafka.properties.security.protocol");
  EXPECT_EQ(setter.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(setter), StartsWith("kafka.properties.security.protocol: "));
  // The typo is what the operator needs to see.
  EXPECT_THAT(Message(setter), HasSubstr("SASL_PLAINTXT"));
}

TEST(ConfSetterTest, ASecretPropertysValueNeverAppearsInTheError) {
  // ssl_key is a key property librdkafka refuses to take as a string: the
  // refusal names the property, and the error must not carry the value.
  const std::string key_material = "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0B";
  std::unique_ptr<rd_kafka_conf_t, ConfDeleter> conf(rd_kafka_conf_new());
  ConfSetter setter(conf.get());
  setter.Set("ssl_key", key_material, "kafka.properties.ssl_key");
  ASSERT_FALSE(setter.status().ok());
  EXPECT_THAT(Message(setter), StartsWith("kafka.properties.ssl_key: "));
  EXPECT_THAT(Message(setter), HasSubstr("ssl_key"));
  EXPECT_THAT(Message(setter), Not(HasSubstr("BEGIN PRIVATE KEY")));
  EXPECT_THAT(Message(setter), Not(HasSubstr("MIIEvQ")));
}

// Like librdkafka on a property that validates its value: refuses anything
// but the placeholder and quotes what it refused, cut to the buffer.
rd_kafka_conf_res_t QuotingSet(rd_kafka_conf_t*, const char* name, const char* value,
                               char* errstr, size_t errstr_size) {
  if (std::string(value) == "[redacted]") return RD_KAFKA_CONF_OK;
  std::snprintf(errstr, errstr_size, "Invalid value \"%s\" for configuration property \"%s\"",
                value, name);
  return RD_KAFKA_CONF_INVALID;
}

// Refuses the property whatever the value, naming only the property.
rd_kafka_conf_res_t UnsupportedSet(rd_kafka_conf_t*, const char* name, const char*,
                                   char* errstr, size_t errstr_size) {
  std::snprintf(errstr, errstr_size, "Configuration property \"%s\" not supported in this build",
                name);
  return RD_KAFKA_CONF_INVALID;
}

TEST(ConfSetterTest, ARefusedSecretIsNotQuotedEvenWhenLibrdkafkaQuotesIt) {
  const std::string password(600, 'q');  // longer than librdkafka's error buffer
  ConfSetter setter(nullptr, &QuotingSet);
  setter.Set("sasl.password", password, "kafka.properties.sasl.password");
  EXPECT_EQ(Message(setter),
            "kafka.properties.sasl.password: librdkafka refused the value (not shown: "
            "sasl.password holds a secret)");
}

TEST(ConfSetterTest, ARefusedSecretPropertyKeepsLibrdkafkasReason) {
  ConfSetter setter(nullptr, &UnsupportedSet);
  setter.Set("sasl.oauthbearer.client.secret", "hunter2", "kafka.properties.sasl.oauthbearer.client.secret");
  EXPECT_EQ(Message(setter),
            "kafka.properties.sasl.oauthbearer.client.secret: Configuration property "
            "\"sasl.oauthbearer.client.secret\" not supported in this build");
}

TEST(ConfSetterTest, SecretsAreAcceptedAndTheFirstFailureSticks) {
  std::unique_ptr<rd_kafka_conf_t, ConfDeleter> conf(rd_kafka_conf_new());
  ConfSetter setter(conf.get());
  setter.Set("sasl.password", "p@ss,w0rd]", "kafka.properties.sasl.password");
  ASSERT_TRUE(setter.status().ok()) << setter.status();
  setter.Set("no.such.property", "x", "kafka.properties.no.such.property");
  setter.Set("security.protocol", "bogus", "kafka.properties.security.protocol");
  EXPECT_THAT(Message(setter), StartsWith("kafka.properties.no.such.property: "));
}

}  // namespace
}  // namespace kafka_sidecar
