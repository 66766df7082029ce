#include "sidecar/config/config_overrides.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sidecar/config/config_keys.h"

namespace kafka_sidecar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// What --print-config would show for a value, flat, for comparisons.
std::string Text(const ConfigValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          return absl::StrJoin(v, ",");
        } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
          return absl::StrJoin(v, ",", absl::PairFormatter("="));
        } else {
          return absl::StrCat(v);
        }
      },
      value);
}

std::map<std::string, std::string> Flatten(const Config& config) {
  std::map<std::string, std::string> flat;
  ForEachConfigValue(config, [&](const ConfigKey& key, const ConfigValue& value) {
    flat[key.name] = Text(value);
  });
  return flat;
}

// A config file that lives as long as the test.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    path_ = absl::StrCat(::testing::TempDir(), "/config_overrides_test_",
                         ::getpid(), "_", counter_++, ".yaml");
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

constexpr char kTopicsEnv[] = "KAFKA_SIDECAR_KAFKA_TOPICS";

TEST(ConfigKeysTest, ListsEveryFieldOnce) {
  // Must name every field of config.h: a field missing from the key table
  // could be set from no source at all.
  const std::vector<std::string> expected = {
      "kafka.bootstrap_servers", "kafka.group_id", "kafka.topics",
      "kafka.auto_offset_reset", "kafka.enable_auto_commit", "kafka.group_protocol",
      "kafka.session_timeout_ms", "kafka.heartbeat_interval_ms",
      "kafka.fetch_min_bytes", "kafka.fetch_max_wait_ms", "kafka.startup_timeout_ms", "kafka.properties",
      "processing.max_workers", "processing.partition_workers",
      "processing.batch_size", "processing.batch_timeout_ms",
      "processing.ordering", "processing.max_retries",
      "processing.retry_backoff_ms", "processing.retry_backoff_max_ms",
      "processing.error_threshold", "processing.error_threshold_counts_rejects",
      "processing.error_window_ms",
      "processing.pause_duration_ms", "processing.ack_timeout_ms",
      "processing.max_extension_ms", "processing.dead_letter_topic",
      "processing.dead_letter_on_permanent_failure", "processing.max_in_flight_messages",
      "processing.max_in_flight_bytes", "processing.commit_interval_ms",
      "processing.revoke_timeout_ms", "processing.drain_timeout_ms",
      "server.grpc_listen", "server.http_listen", "server.operator_listen",
      "server.operator_rpcs", "server.operator_identities", "server.tls.cert_file",
      "server.tls.key_file", "server.tls.client_ca_file",
      "observability.log_level", "observability.log_format",
      "observability.stats_interval_ms",
      "observability.health_check_interval_ms",
      "observability.stall_timeout_ms"};
  std::vector<std::string> names;
  for (const ConfigKey& key : ConfigKeys()) names.push_back(key.name);
  EXPECT_EQ(names, expected);
}

TEST(ConfigKeysTest, EnvironmentNamesAreDistinct) {
  std::set<std::string> names;
  for (const ConfigKey& key : ConfigKeys()) {
    EXPECT_TRUE(names.insert(EnvironmentVariableName(key.name)).second) << key.name;
  }
  EXPECT_EQ(EnvironmentVariableName("server.tls.cert_file"),
            "KAFKA_SIDECAR_SERVER_TLS_CERT_FILE");
  EXPECT_EQ(EnvironmentVariableName("processing.batch_size"),
            "KAFKA_SIDECAR_PROCESSING_BATCH_SIZE");
}

// Every key can be set from text and reads back as set.
TEST(ConfigKeysTest, SetConfigValueReachesEveryKey) {
  const std::map<std::string, std::pair<std::string, std::string>> samples = {
      {"string", {"some-value", "some-value"}},
      {"integer", {"7", "7"}},
      {"true|false", {"yes", "true"}},
      {"partition|none", {"none", "none"}},
      {"list", {" a , b ", "a,b"}},
  };
  for (const ConfigKey& key : ConfigKeys()) {
    if (key.name == kPropertiesKey) continue;
    auto sample = samples.find(key.kind);
    ASSERT_NE(sample, samples.end()) << key.kind;
    Config config;
    ASSERT_TRUE(SetConfigValue(&config, key.name, sample->second.first).ok()) << key.name;
    EXPECT_EQ(Flatten(config)[key.name], sample->second.second) << key.name;
  }
}

TEST(ConfigKeysTest, SetConfigValueErrorsMatchTheFile) {
  Config config;
  EXPECT_EQ(SetConfigValue(&config, "processing.batch_size", "12abc").message(),
            "processing.batch_size: must be an integer, got \"12abc\"");
  EXPECT_EQ(SetConfigValue(&config, "processing.max_in_flight_messages", "-1").message(),
            "processing.max_in_flight_messages: must be between 0 and 4294967295, got -1");
  EXPECT_EQ(SetConfigValue(&config, "kafka.enable_auto_commit", "maybe").message(),
            "kafka.enable_auto_commit: must be true or false, got \"maybe\"");
  EXPECT_EQ(SetConfigValue(&config, "processing.ordering", "random").message(),
            "processing.ordering: must be one of partition, none; got \"random\"");
  EXPECT_EQ(SetConfigValue(&config, "processing.nope", "1").message(),
            "processing.nope: unknown key");
  EXPECT_EQ(SetConfigValue(&config, "kafka", "1").message(), "kafka: unknown key");
  EXPECT_EQ(SetConfigValue(&config, "kafka.properties", "a=b").message(),
            "kafka.properties: set one property as kafka.properties.NAME");
  EXPECT_FALSE(SetConfigValue(&config, "kafka.properties.", "x").ok());
  // Literal text: no YAML null, no octal.
  ASSERT_TRUE(SetConfigValue(&config, "kafka.group_id", "~").ok());
  EXPECT_EQ(config.kafka.group_id, "~");
  ASSERT_TRUE(SetConfigValue(&config, "processing.batch_size", "010").ok());
  EXPECT_EQ(config.processing.batch_size, 10);
}

TEST(ConfigKeysTest, IsConfigKey) {
  EXPECT_TRUE(IsConfigKey("processing.batch_size"));
  EXPECT_TRUE(IsConfigKey("server.tls.cert_file"));
  EXPECT_TRUE(IsConfigKey("kafka.properties.sasl.password"));
  EXPECT_FALSE(IsConfigKey("kafka.properties."));
  EXPECT_FALSE(IsConfigKey("processing"));
  EXPECT_FALSE(IsConfigKey("processing.batchsize"));
}

TEST(EnvironmentOverridesTest, MapsVariablesToKeys) {
  auto overrides = EnvironmentOverrides({
      {"PATH", "/usr/bin"},
      {"KAFKA_BROKERS", "ignored:9092"},
      {"KAFKA_SIDECAR_SERVER_TLS_CERT_FILE", "/certs/tls.crt"},
      {"KAFKA_SIDECAR_PROCESSING_BATCH_SIZE", "50"},
      {"KAFKA_SIDECAR_KAFKA_PROPERTIES_SASL_PASSWORD", "hunter2"},
      {"KAFKA_SIDECAR_CONFIG", "/etc/sidecar.yaml"},
  });
  ASSERT_TRUE(overrides.ok()) << overrides.status();
  std::vector<std::string> seen;
  for (const ConfigOverride& o : *overrides) {
    seen.push_back(absl::StrCat(o.key, "=", o.value, " <- ", o.origin));
  }
  EXPECT_THAT(seen, ::testing::ElementsAre(
                        "kafka.properties.sasl.password=hunter2 <- environment "
                        "KAFKA_SIDECAR_KAFKA_PROPERTIES_SASL_PASSWORD",
                        "processing.batch_size=50 <- environment "
                        "KAFKA_SIDECAR_PROCESSING_BATCH_SIZE",
                        "server.tls.cert_file=/certs/tls.crt <- environment "
                        "KAFKA_SIDECAR_SERVER_TLS_CERT_FILE"));
}

TEST(EnvironmentOverridesTest, UnknownVariableIsAnErrorNamingIt) {
  for (const std::string variable :
       {"KAFKA_SIDECAR_PROCESING_BATCH_SIZE", "KAFKA_SIDECAR_PROCESSING_BATCHSIZE",
        "KAFKA_SIDECAR_processing_batch_size", "KAFKA_SIDECAR_KAFKA_PROPERTIES_",
        "KAFKA_SIDECAR_KAFKA_PROPERTIES", "KAFKA_SIDECAR_", "KAFKA_SIDECAR_SERVER_TLS"}) {
    auto overrides = EnvironmentOverrides({{variable, "s3cr3t-value"}});
    ASSERT_FALSE(overrides.ok()) << variable;
    EXPECT_TRUE(absl::StartsWith(overrides.status().message(),
                                 absl::StrCat("environment variable ", variable,
                                              " matches no configuration key")))
        << overrides.status();
    EXPECT_THAT(overrides.status().message(), Not(HasSubstr("s3cr3t")));
  }
}

TEST(EnvironmentOverridesTest, TwoSpellingsOfOnePropertyAreAnError) {
  auto overrides = EnvironmentOverrides({
      {"KAFKA_SIDECAR_KAFKA_PROPERTIES_SASL_PASSWORD", "a"},
      {"KAFKA_SIDECAR_KAFKA_PROPERTIES_sasl_password", "b"},
  });
  ASSERT_FALSE(overrides.ok());
  EXPECT_EQ(overrides.status().message(),
            "environment variables KAFKA_SIDECAR_KAFKA_PROPERTIES_SASL_PASSWORD and "
            "KAFKA_SIDECAR_KAFKA_PROPERTIES_sasl_password both set "
            "kafka.properties.sasl.password");
}

absl::StatusOr<Config> Load(const Environment& environment,
                            const std::vector<ConfigOverride>& flags = {},
                            std::optional<std::string> file = std::nullopt) {
  return LoadLayeredConfig({std::move(file), environment, flags, Config{}, nullptr});
}

ConfigOverride Flag(const std::string& key, const std::string& value) {
  return {key, value, absl::StrCat("flag --", key)};
}

TEST(LoadLayeredConfigTest, DefaultsFileEnvironmentFlagsInThatOrder) {
  TempFile file(R"(
kafka:
  topics: [from-file]
  group_id: file-group
processing:
  batch_size: 10
  max_retries: 1
  dead_letter_topic: dlq
)");
  auto config = Load(
      {{"KAFKA_SIDECAR_PROCESSING_BATCH_SIZE", "20"},
       {"KAFKA_SIDECAR_PROCESSING_MAX_RETRIES", "5"},
       {"KAFKA_SIDECAR_PROCESSING_MAX_WORKERS", "3"}},
      {Flag("processing.batch_size", "30"), Flag("processing.max_workers", "2"),
       Flag("processing.max_workers", "6")},
      file.path());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->kafka.topics, std::vector<std::string>{"from-file"});  // file
  EXPECT_EQ(config->kafka.group_id, "file-group");                       // file
  EXPECT_EQ(config->processing.max_retries, 5);                          // env > file
  EXPECT_EQ(config->processing.batch_size, 30);          // flag > env > file
  EXPECT_EQ(config->processing.max_workers, 6);          // last flag wins
  EXPECT_EQ(config->processing.dead_letter_topic, "dlq");
  EXPECT_EQ(config->kafka.bootstrap_servers, "localhost:9092");  // default
}

TEST(LoadLayeredConfigTest, NoFileNeededWhenTheRestIsComplete) {
  auto config = Load({{kTopicsEnv, "orders, payments"}},
                     {Flag("kafka.bootstrap_servers", "broker:9092")});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->kafka.topics, (std::vector<std::string>{"orders", "payments"}));
  EXPECT_EQ(config->kafka.bootstrap_servers, "broker:9092");
  EXPECT_EQ(Load({}).status().message(), "kafka.topics: must list at least one topic");
}

TEST(LoadLayeredConfigTest, PropertiesFromEnvironmentAndFlags) {
  TempFile file("kafka: {topics: [t], properties: {client.rack: az1, sasl.username: u}}\n");
  auto config = Load({{"KAFKA_SIDECAR_KAFKA_PROPERTIES_SASL_PASSWORD", "hunter2"},
                      {"KAFKA_SIDECAR_KAFKA_PROPERTIES_SECURITY_PROTOCOL", "SASL_SSL"}},
                     {Flag("kafka.properties.client.rack", "az2"),
                      Flag("kafka.properties.some_name", "v")},
                     file.path());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->kafka.properties,
            (std::map<std::string, std::string>{{"client.rack", "az2"},
                                                {"sasl.username", "u"},
                                                {"sasl.password", "hunter2"},
                                                {"security.protocol", "SASL_SSL"},
                                                {"some_name", "v"}}));
}

// One bad value per kind of check, given by environment and by flag: the
// error names the key, the reason and where the value came from.
struct BadValue {
  std::string key;
  std::string value;
  std::string error;  // without the source
};

TEST(LoadLayeredConfigTest, BadValuesNameKeyAndSource) {
  const std::vector<BadValue> cases = {
      {"processing.batch_size", "0", "processing.batch_size: must be at least 1, got 0"},
      {"processing.batch_size", "abc",
       "processing.batch_size: must be an integer, got \"abc\""},
      {"processing.batch_size", "", "processing.batch_size: must be an integer, got \"\""},
      {"processing.max_workers", "2000",
       "processing.max_workers: must be between 1 and 1024, got 2000"},
      {"processing.max_in_flight_bytes", "-5",
       "processing.max_in_flight_bytes: must be between 0 and 18446744073709551615, got -5"},
      {"kafka.session_timeout_ms", "99999999999",
       "kafka.session_timeout_ms: must be between -2147483648 and 2147483647, got "
       "99999999999"},
      {"kafka.enable_auto_commit", "", "kafka.enable_auto_commit: must be true or false, got \"\""},
      {"processing.ordering", "random",
       "processing.ordering: must be one of partition, none; got \"random\""},
      {"kafka.auto_offset_reset", "middle",
       "kafka.auto_offset_reset: must be one of earliest, latest; got \"middle\""},
      {"kafka.topics", "a,,b", "kafka.topics: topic names must not be empty"},
      {"kafka.topics", "", "kafka.topics: must list at least one topic"},
      {"kafka.group_id", "", "kafka.group_id: is required"},
      {"kafka.heartbeat_interval_ms", "50000",
       "kafka.heartbeat_interval_ms: must be less than kafka.session_timeout_ms (45000), got "
       "50000"},
      {"server.grpc_listen", "nowhere",
       "server.grpc_listen: must be host:port or unix:/absolute/path, got \"nowhere\""},
      {"server.tls.cert_file", "/tls.crt",
       "server.tls.key_file: must be set when server.tls.cert_file is set"},
      {"observability.log_format", "xml",
       "observability.log_format: must be one of text, json; got \"xml\""},
      {"kafka.properties.group.id", "s3cr3t", "kafka.properties.group.id: set kafka.group_id instead"},
  };
  for (const BadValue& c : cases) {
    // Topics come from the environment unless under test.
    Environment env = {{kTopicsEnv, "t"}};
    const std::string variable =
        absl::StartsWith(c.key, "kafka.properties.")
            ? "KAFKA_SIDECAR_KAFKA_PROPERTIES_GROUP_ID"
            : EnvironmentVariableName(c.key);
    if (c.key == "kafka.topics") env.clear();
    Environment bad_env = env;
    bad_env.emplace_back(variable, c.value);

    // The error's key is the one set, except for cross-field checks (TLS),
    // where the other key is named and has no source.
    const bool names_other_key = !absl::StartsWith(c.error, c.key + ":");
    const std::string env_suffix =
        names_other_key ? "" : absl::StrCat(" (from environment ", variable, ")");
    const std::string flag_suffix =
        names_other_key ? "" : absl::StrCat(" (from flag --", c.key, ")");

    auto from_env = Load(bad_env);
    ASSERT_FALSE(from_env.ok()) << c.key << "=" << c.value;
    EXPECT_EQ(from_env.status().message(), c.error + env_suffix);

    auto from_flag = Load(env, {Flag(c.key, c.value)});
    ASSERT_FALSE(from_flag.ok()) << c.key << "=" << c.value;
    EXPECT_EQ(from_flag.status().message(), c.error + flag_suffix);
    EXPECT_THAT(from_flag.status().message(), Not(HasSubstr("s3cr3t")));
  }
}

TEST(LoadLayeredConfigTest, ErrorsInTheFileNameTheFile) {
  TempFile file("kafka: {topics: [t]}\nprocessing: {batch_size: 0}\n");
  EXPECT_EQ(Load({}, {}, file.path()).status().message(),
            absl::StrCat("processing.batch_size: must be at least 1, got 0 [in ", file.path(),
                         "]"));
  // Fixed by a higher layer: fine.
  EXPECT_TRUE(Load({{"KAFKA_SIDECAR_PROCESSING_BATCH_SIZE", "5"}}, {}, file.path()).ok());

  TempFile unknown("processing: {batchsize: 5}\n");
  EXPECT_EQ(Load({}, {}, unknown.path()).status().message(),
            absl::StrCat("processing.batchsize: unknown key (line 1) [in ", unknown.path(), "]"));

  // A good file, a bad override: the override is blamed, not the file.
  TempFile good("kafka: {topics: [t]}\n");
  EXPECT_EQ(Load({{"KAFKA_SIDECAR_PROCESSING_BATCH_SIZE", "0"}}, {}, good.path())
                .status()
                .message(),
            "processing.batch_size: must be at least 1, got 0 (from environment "
            "KAFKA_SIDECAR_PROCESSING_BATCH_SIZE)");
}

// The extra check (--validate's librdkafka one) runs on the merged, valid
// result, and its errors are attributed like ValidateConfig's.
TEST(LoadLayeredConfigTest, TheExtraCheckRunsLastAndItsErrorsNameTheirSource) {
  TempFile file("kafka: {topics: [t], properties: {fetch.max.bytes: banana}}\n");
  int runs = 0;
  ConfigSources sources;
  sources.config_file = file.path();
  sources.check = [&runs](const Config& c) -> absl::Status {
    ++runs;
    auto it = c.kafka.properties.find("fetch.max.bytes");
    if (it != c.kafka.properties.end() && it->second == "banana") {
      return absl::InvalidArgumentError("kafka.properties.fetch.max.bytes: refused");
    }
    return absl::OkStatus();
  };
  EXPECT_EQ(LoadLayeredConfig(sources).status().message(),
            absl::StrCat("kafka.properties.fetch.max.bytes: refused [in ", file.path(), "]"));
  sources.flags = {Flag("kafka.properties.fetch.max.bytes", "banana")};
  EXPECT_EQ(LoadLayeredConfig(sources).status().message(),
            "kafka.properties.fetch.max.bytes: refused (from flag "
            "--kafka.properties.fetch.max.bytes)");
  sources.flags = {Flag("kafka.properties.fetch.max.bytes", "1048576")};
  EXPECT_TRUE(LoadLayeredConfig(sources).ok());
  EXPECT_EQ(runs, 3);

  // Not reached when ValidateConfig already failed.
  sources.flags = {Flag("processing.batch_size", "0")};
  EXPECT_THAT(LoadLayeredConfig(sources).status().message(),
              HasSubstr("processing.batch_size: must be at least 1"));
  EXPECT_EQ(runs, 3);
}

TEST(LoadLayeredConfigTest, ConfigFileFromEnvironmentUnlessFlagGiven) {
  TempFile env_file("kafka: {topics: [env-file]}\n");
  TempFile flag_file("kafka: {topics: [flag-file]}\n");
  auto from_env = Load({{"KAFKA_SIDECAR_CONFIG", env_file.path()}});
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_EQ(from_env->kafka.topics, std::vector<std::string>{"env-file"});

  auto from_flag = Load({{"KAFKA_SIDECAR_CONFIG", env_file.path()}}, {}, flag_file.path());
  ASSERT_TRUE(from_flag.ok()) << from_flag.status();
  EXPECT_EQ(from_flag->kafka.topics, std::vector<std::string>{"flag-file"});

  // Empty: no file.
  EXPECT_EQ(Load({{"KAFKA_SIDECAR_CONFIG", ""}}).status().message(),
            "kafka.topics: must list at least one topic");

  auto missing = Load({{"KAFKA_SIDECAR_CONFIG", "/nonexistent/sidecar.yaml"}});
  EXPECT_EQ(missing.status().message(),
            "config file /nonexistent/sidecar.yaml: cannot open: No such file or directory "
            "(from environment KAFKA_SIDECAR_CONFIG)");
  EXPECT_EQ(Load({}, {}, "/nonexistent/sidecar.yaml").status().message(),
            "config file /nonexistent/sidecar.yaml: cannot open: No such file or directory");
}

TEST(LoadLayeredConfigTest, EmptyValuesClearStringsAndLists) {
  TempFile file(R"(
kafka: {topics: [t]}
processing: {dead_letter_topic: dlq}
server: {http_listen: "127.0.0.1:9000"}
)");
  auto config = Load({{"KAFKA_SIDECAR_SERVER_HTTP_LISTEN", ""}},
                     {Flag("processing.dead_letter_topic", "")}, file.path());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server.http_listen, "");  // disabled
  EXPECT_EQ(config->processing.dead_letter_topic, "");

  auto property = Load({{kTopicsEnv, "t"}, {"KAFKA_SIDECAR_KAFKA_PROPERTIES_CLIENT_RACK", ""}});
  ASSERT_TRUE(property.ok()) << property.status();
  EXPECT_EQ(property->kafka.properties.at("client.rack"), "");
}

TEST(LoadLayeredConfigTest, UnknownEnvironmentVariableStopsLoading) {
  auto config = Load({{kTopicsEnv, "t"}, {"KAFKA_SIDECAR_PROCESSING_BACH_SIZE", "5"}});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("environment variable KAFKA_SIDECAR_PROCESSING_BACH_SIZE matches no "
                        "configuration key"));
}

}  // namespace
}  // namespace kafka_sidecar
