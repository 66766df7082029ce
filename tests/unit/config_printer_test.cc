#include "sidecar/config/config_printer.h"

#include <map>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sidecar/config/config_keys.h"
#include "sidecar/config/config_loader.h"
#include "sidecar/config/secrets.h"

namespace kafka_sidecar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Every key and value, typed, so that "7" and 7 differ.
std::map<std::string, std::string> Flatten(const Config& config) {
  std::map<std::string, std::string> flat;
  ForEachConfigValue(config, [&](const ConfigKey& key, const ConfigValue& value) {
    flat[key.name] = std::visit(
        [](const auto& v) -> std::string {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>) {
            return absl::StrCat("string:", v);
          } else if constexpr (std::is_same_v<T, bool>) {
            return v ? "bool:true" : "bool:false";
          } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            return absl::StrCat("list:", absl::StrJoin(v, "\x1f"));
          } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
            return absl::StrCat("map:", absl::StrJoin(v, "\x1f", absl::PairFormatter("\x1e")));
          } else {
            return absl::StrCat("int:", v);
          }
        },
        value);
  });
  return flat;
}

Config Valid() {
  Config config;
  config.kafka.topics = {"orders"};
  return config;
}

TEST(ConfigPrinterTest, DefaultsRoundTrip) {
  const Config config = Valid();
  const std::string yaml = PrintConfigYaml(config);
  auto parsed = ParseConfigYaml(yaml);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << yaml;
  EXPECT_EQ(Flatten(*parsed), Flatten(config));
  EXPECT_EQ(PrintConfigYaml(*parsed), yaml);
}

// Every key off its default, strings that YAML would misread if printed
// plain, and every section present.
TEST(ConfigPrinterTest, EveryKeyRoundTrips) {
  Config c;
  KafkaConfig& k = c.kafka;
  k.bootstrap_servers = "b1:9092,b2:9092";
  k.group_id = "~";
  k.topics = {"null", "007", "a: b", "#hash", "quote\"d", "ünï"};
  k.auto_offset_reset = "latest";
  k.enable_auto_commit = true;
  k.session_timeout_ms = 10001;
  k.heartbeat_interval_ms = 1001;
  k.fetch_min_bytes = 2;
  k.fetch_max_wait_ms = 0;
  k.properties = {{"client.rack", "true"}, {"some_name", ""}, {"x.y", "line1\nline2"}};
  ProcessingConfig& p = c.processing;
  p.max_workers = 9;
  p.partition_workers = 3;
  p.batch_size = 7;
  p.batch_timeout_ms = 0;
  p.ordering = OrderingMode::kNone;
  p.max_retries = 0;
  p.retry_backoff_ms = 11;
  p.retry_backoff_max_ms = 12;
  p.error_threshold = 13;
  p.error_window_ms = 14;
  p.pause_duration_ms = 15;
  p.ack_timeout_ms = 16;
  p.max_extension_ms = 20;
  p.dead_letter_topic = "";
  p.max_in_flight_messages = 4294967295u;
  p.max_in_flight_bytes = 18446744073709551615ull;
  p.commit_interval_ms = 17;
  p.revoke_timeout_ms = 18;
  p.drain_timeout_ms = 19;
  c.server.grpc_listen = "unix:/run/sidecar.sock";
  c.server.http_listen = "";
  c.server.tls = {"/tls/crt", "/tls/key", "/tls/ca"};
  c.server.operator_listen = "127.0.0.1:50052";
  c.server.operator_rpcs = "tls_identities";
  c.server.operator_identities = {"ops.example.com", "spiffe://prod/ops"};
  c.observability = {"debug", "json", 0, 2, 3};
  ASSERT_TRUE(ValidateConfig(c).ok()) << ValidateConfig(c);

  const std::string yaml = PrintConfigYaml(c);
  auto parsed = ParseConfigYaml(yaml);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << yaml;
  EXPECT_EQ(Flatten(*parsed), Flatten(c)) << yaml;
}

TEST(ConfigPrinterTest, ListsEveryKeyInFileOrder) {
  const std::string yaml = PrintConfigYaml(Valid());
  size_t last = 0;
  for (const std::string section : {"kafka:", "processing:", "server:", "observability:"}) {
    const size_t at = yaml.find("\n" + section);
    ASSERT_NE(at, std::string::npos) << section << "\n" << yaml;
    EXPECT_GT(at, last) << section;
    last = at;
  }
  EXPECT_THAT(yaml, HasSubstr("  tls:\n    cert_file: \"\"\n"));
  EXPECT_THAT(yaml, HasSubstr("  properties: {}\n"));
}

TEST(ConfigPrinterTest, RedactsEverySecretForm) {
  const std::vector<std::string> secrets = {
      "sasl.password",         "ssl.key.password",          "ssl.keystore.password",
      "ssl.keystore.location", "sasl.oauthbearer.client.secret",
      "sasl.oauthbearer.config", "sasl.jaas.config",        "ssl.key.pem",
      "ssl_key",               "SASL.PASSWORD",             "custom.auth.token",
      "sasl_password"};
  Config config = Valid();
  for (size_t i = 0; i < secrets.size(); ++i) {
    EXPECT_TRUE(IsSecretProperty(secrets[i])) << secrets[i];
    config.kafka.properties[secrets[i]] = absl::StrCat("TOPSECRET", i);
  }
  config.kafka.properties["client.rack"] = "az-1";
  config.kafka.properties["security.protocol"] = "SASL_SSL";
  config.kafka.properties["sasl.username"] = "svc-user";
  config.kafka.properties["ssl.ca.location"] = "/tls/ca.pem";

  const std::string yaml = PrintConfigYaml(config);
  EXPECT_THAT(yaml, Not(HasSubstr("TOPSECRET"))) << yaml;
  for (const std::string& name : secrets) {
    EXPECT_THAT(yaml, HasSubstr(absl::StrCat("\"", name, "\": \"[redacted]\""))) << yaml;
  }
  EXPECT_THAT(yaml, HasSubstr("\"client.rack\": \"az-1\""));
  EXPECT_THAT(yaml, HasSubstr("\"security.protocol\": \"SASL_SSL\""));
  EXPECT_THAT(yaml, HasSubstr("\"sasl.username\": \"svc-user\""));
  EXPECT_THAT(yaml, HasSubstr("\"ssl.ca.location\": \"/tls/ca.pem\""));

  // What is printed still loads, with the placeholders as values.
  auto parsed = ParseConfigYaml(yaml);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->kafka.properties.at("sasl.password"), kRedactedValue);
  EXPECT_EQ(parsed->kafka.properties.at("client.rack"), "az-1");
}

TEST(SecretsTest, OrdinaryPropertiesAreNotSecret) {
  for (const char* name :
       {"client.rack", "security.protocol", "sasl.mechanism", "sasl.username",
        "ssl.ca.location", "ssl.certificate.location", "ssl.key.location",
        "statistics.interval.ms", "debug"}) {
    EXPECT_FALSE(IsSecretProperty(name)) << name;
  }
}

}  // namespace
}  // namespace kafka_sidecar
