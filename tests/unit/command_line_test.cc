#include "sidecar/app/command_line.h"

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sidecar/config/config_keys.h"
#include "sidecar/config/config_overrides.h"

namespace kafka_sidecar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ParseError(const std::vector<std::string>& args) {
  auto command = ParseCommandLine(args);
  EXPECT_FALSE(command.ok());
  return command.ok() ? "" : std::string(command.status().message());
}

TEST(ParseCommandLineTest, NoArgumentsRunsWithDefaults) {
  auto command = ParseCommandLine({});
  ASSERT_TRUE(command.ok()) << command.status();
  EXPECT_EQ(command->action, CommandAction::kRun);
  EXPECT_FALSE(command->config_file.has_value());
  EXPECT_TRUE(command->flags.empty());
}

TEST(ParseCommandLineTest, ConfigAndKeysInBothForms) {
  auto command = ParseCommandLine({"--config", "/etc/s.yaml", "--kafka.bootstrap_servers=b:9092",
                                   "--processing.batch_size", "50",
                                   "--kafka.properties.sasl.password=p=w",
                                   "--processing.dead_letter_topic=", "--processing.max_retries",
                                   "-1", "--validate"});
  ASSERT_TRUE(command.ok()) << command.status();
  EXPECT_EQ(command->action, CommandAction::kValidate);
  EXPECT_EQ(command->config_file, "/etc/s.yaml");
  std::vector<std::string> flags;
  for (const ConfigOverride& o : command->flags) {
    flags.push_back(absl::StrCat(o.key, "=", o.value, " <- ", o.origin));
  }
  EXPECT_THAT(flags, ::testing::ElementsAre(
                         "kafka.bootstrap_servers=b:9092 <- flag --kafka.bootstrap_servers",
                         "processing.batch_size=50 <- flag --processing.batch_size",
                         "kafka.properties.sasl.password=p=w <- flag "
                         "--kafka.properties.sasl.password",
                         "processing.dead_letter_topic= <- flag --processing.dead_letter_topic",
                         "processing.max_retries=-1 <- flag --processing.max_retries"));

  auto inline_config = ParseCommandLine({"--config=/x.yaml", "--print-config"});
  ASSERT_TRUE(inline_config.ok());
  EXPECT_EQ(inline_config->config_file, "/x.yaml");
  EXPECT_EQ(inline_config->action, CommandAction::kPrintConfig);
}

TEST(ParseCommandLineTest, EveryKeyIsAFlag) {
  for (const ConfigKey& key : ConfigKeys()) {
    auto command = ParseCommandLine({absl::StrCat("--", key.name, "=v")});
    ASSERT_TRUE(command.ok()) << key.name << ": " << command.status();
    ASSERT_EQ(command->flags.size(), 1u);
    EXPECT_EQ(command->flags[0].key, key.name);
  }
}

TEST(ParseCommandLineTest, UsageErrors) {
  EXPECT_EQ(ParseError({"--foo"}), "unknown flag --foo");
  EXPECT_EQ(ParseError({"--foo=secret"}), "unknown flag --foo");
  EXPECT_EQ(ParseError({"-x"}), "unknown flag -x");
  EXPECT_EQ(ParseError({"--processing.batchsize=5"}), "unknown flag --processing.batchsize");
  EXPECT_EQ(ParseError({"--kafka.properties.=x"}), "unknown flag --kafka.properties.");
  EXPECT_EQ(ParseError({"--config"}), "--config needs a value");
  EXPECT_EQ(ParseError({"--config="}), "--config needs a value");
  EXPECT_EQ(ParseError({"--config", "--validate"}), "--config needs a value");
  EXPECT_EQ(ParseError({"--config=a", "--config=b"}), "--config given twice");
  EXPECT_EQ(ParseError({"--kafka.group_id"}), "--kafka.group_id needs a value");
  EXPECT_EQ(ParseError({"--kafka.group_id", "--validate"}), "--kafka.group_id needs a value");
  EXPECT_EQ(ParseError({"--validate=yes"}), "--validate takes no value");
  EXPECT_EQ(ParseError({"--validate", "--print-config"}),
            "--validate and --print-config cannot be combined");
  EXPECT_EQ(ParseError({"--version", "--validate"}), "--version and --validate cannot be combined");
  EXPECT_EQ(ParseError({"--"}), "unknown flag --");
  EXPECT_EQ(ParseError({"--validate", "orders"}), "unexpected argument #2: flags start with --");
  // A value that lost its flag is not repeated: it may be a password.
  const std::string stray = ParseError({"--kafka.properties.sasl.password=", "hunter2"});
  EXPECT_EQ(stray, "unexpected argument #2: flags start with --");
}

TEST(ParseCommandLineTest, ActionsAndHelpWins) {
  EXPECT_EQ(ParseCommandLine({"--version"})->action, CommandAction::kVersion);
  EXPECT_EQ(ParseCommandLine({"--validate", "--validate"})->action, CommandAction::kValidate);
  EXPECT_EQ(ParseCommandLine({"-h"})->action, CommandAction::kHelp);
  EXPECT_EQ(ParseCommandLine({"--bogus", "--help"})->action, CommandAction::kHelp);
}

TEST(ParseCommandLineTest, ProbeTakesOneUrlAndNothingElse) {
  EXPECT_EQ(ParseCommandLine({"--probe", "http://127.0.0.1:8080/healthz"})->probe_url,
            "http://127.0.0.1:8080/healthz");
  EXPECT_EQ(ParseCommandLine({"--probe=http://h:1/"})->action, CommandAction::kProbe);
  EXPECT_EQ(ParseError({"--probe"}), "--probe needs a URL");
  EXPECT_EQ(ParseError({"--probe="}), "--probe needs a URL");
  EXPECT_EQ(ParseError({"--probe", "--validate"}), "--probe needs a URL");
  EXPECT_EQ(ParseError({"--probe=http://h:1/", "--probe=http://h:2/"}), "--probe given twice");
  EXPECT_EQ(ParseError({"--version", "--probe=http://h:1/"}),
            "--version and --probe cannot be combined");
  EXPECT_EQ(ParseError({"--probe=http://h:1/", "--validate"}),
            "--probe and --validate cannot be combined");
}

TEST(UsageTextTest, ListsEveryKeyWithDefaultAndTheRules) {
  const std::string usage = UsageText();
  for (const ConfigKey& key : ConfigKeys()) {
    EXPECT_THAT(usage, HasSubstr(absl::StrCat("--", key.name))) << key.name;
  }
  EXPECT_THAT(usage, ::testing::ContainsRegex("--kafka.bootstrap_servers +string +localhost:9092"));
  EXPECT_THAT(usage, ::testing::ContainsRegex("--processing.batch_size +integer +500\n"));
  EXPECT_THAT(usage, ::testing::ContainsRegex("--processing.ordering +partition\\|none +partition"));
  EXPECT_THAT(usage, ::testing::ContainsRegex("--kafka.topics +list +\\(none\\)"));
  EXPECT_THAT(usage, ::testing::ContainsRegex("--kafka.properties.NAME +string"));
  EXPECT_THAT(usage, HasSubstr("defaults < file < environment < flags"));
  EXPECT_THAT(usage, HasSubstr("KAFKA_SIDECAR_PROCESSING_BATCH_SIZE=50"));
  EXPECT_THAT(usage, HasSubstr("KAFKA_SIDECAR_CONFIG"));
  EXPECT_THAT(usage, HasSubstr("--validate"));
  EXPECT_THAT(usage, HasSubstr("--print-config"));
}

struct Outcome {
  std::optional<int> exit_code;
  std::string out;
  std::string err;
  Config config;
};

Outcome Handle(const std::vector<std::string>& args, const Environment& environment) {
  std::ostringstream out, err;
  Outcome outcome;
  outcome.exit_code = HandleCommandLine(args, environment, out, err, &outcome.config);
  outcome.out = out.str();
  outcome.err = err.str();
  return outcome;
}

TEST(HandleCommandLineTest, ValidateOkAndBad) {
  const Outcome ok = Handle({"--validate", "--kafka.topics=a,b"}, {});
  EXPECT_EQ(ok.exit_code, kExitOk);
  EXPECT_EQ(ok.out, "configuration OK\n");
  EXPECT_EQ(ok.err, "");

  const Outcome bad =
      Handle({"--validate"}, {{"KAFKA_SIDECAR_KAFKA_TOPICS", "a"},
                              {"KAFKA_SIDECAR_PROCESSING_BATCH_SIZE", "0"}});
  EXPECT_EQ(bad.exit_code, kExitUsage);
  EXPECT_EQ(bad.out, "");
  EXPECT_EQ(bad.err,
            "kafka-sidecar: invalid configuration: processing.batch_size: must be at least 1, "
            "got 0 (from environment KAFKA_SIDECAR_PROCESSING_BATCH_SIZE)\n");
}

// --validate builds the librdkafka configurations as start-up does: what
// librdkafka refuses there fails here, exit 2, key and source named.
TEST(HandleCommandLineTest, ValidateChecksKafkaPropertiesAsStartUpWould) {
  const Outcome bad_value =
      Handle({"--validate", "--kafka.topics=a", "--kafka.properties.fetch.max.bytes=banana"}, {});
  EXPECT_EQ(bad_value.exit_code, kExitUsage);
  EXPECT_EQ(bad_value.out, "");
  EXPECT_THAT(bad_value.err, ::testing::StartsWith(
                                 "kafka-sidecar: invalid configuration: "
                                 "kafka.properties.fetch.max.bytes: "));
  EXPECT_THAT(bad_value.err,
              ::testing::EndsWith("(from flag --kafka.properties.fetch.max.bytes)\n"));

  const Outcome unknown = Handle({"--validate", "--kafka.topics=a"},
                                 {{"KAFKA_SIDECAR_KAFKA_PROPERTIES_FETCH_MAX_BYTS", "1000"}});
  EXPECT_EQ(unknown.exit_code, kExitUsage);
  EXPECT_THAT(unknown.err, HasSubstr("kafka.properties.fetch.max.byts: "));
  EXPECT_THAT(unknown.err, HasSubstr("No such configuration property"));
  EXPECT_THAT(unknown.err,
              HasSubstr("(from environment KAFKA_SIDECAR_KAFKA_PROPERTIES_FETCH_MAX_BYTS)"));

  const Outcome secret =
      Handle({"--validate", "--kafka.topics=a"},
             {{"KAFKA_SIDECAR_KAFKA_PROPERTIES_SSL_KEYSTORE_PASSWD", "hunter2"}});
  EXPECT_EQ(secret.exit_code, kExitUsage);
  EXPECT_THAT(secret.err, HasSubstr("kafka.properties.ssl.keystore.passwd: "));
  EXPECT_THAT(secret.err, Not(HasSubstr("hunter2")));

  // The dead-letter producer's configuration is built too, and a good one
  // still passes.
  const Outcome good = Handle({"--validate", "--kafka.topics=a",
                               "--processing.dead_letter_topic=a.dlt",
                               "--kafka.properties.fetch.max.bytes=1048576",
                               "--kafka.properties.client.rack=az-1"},
                              {});
  EXPECT_EQ(good.exit_code, kExitOk) << good.err;
  EXPECT_EQ(good.out, "configuration OK\n");
}

TEST(HandleCommandLineTest, PrintConfigShowsOverridesAndRedacts) {
  const Outcome printed = Handle(
      {"--print-config", "--processing.batch_size=42", "--kafka.group_id", "flag-group"},
      {{"KAFKA_SIDECAR_KAFKA_TOPICS", "t1,t2"},
       {"KAFKA_SIDECAR_KAFKA_GROUP_ID", "env-group"},
       {"KAFKA_SIDECAR_KAFKA_PROPERTIES_SASL_PASSWORD", "hunter2"}});
  EXPECT_EQ(printed.exit_code, kExitOk) << printed.err;
  EXPECT_THAT(printed.out, HasSubstr("batch_size: 42\n"));
  EXPECT_THAT(printed.out, HasSubstr("group_id: \"flag-group\"\n"));
  EXPECT_THAT(printed.out, HasSubstr("topics: [\"t1\", \"t2\"]\n"));
  EXPECT_THAT(printed.out, HasSubstr("\"sasl.password\": \"[redacted]\""));
  EXPECT_THAT(printed.out, Not(HasSubstr("hunter2")));

  const Outcome invalid = Handle({"--print-config"}, {});
  EXPECT_EQ(invalid.exit_code, kExitUsage);
  EXPECT_EQ(invalid.out, "");
  EXPECT_THAT(invalid.err, HasSubstr("kafka.topics: must list at least one topic"));
}

TEST(HandleCommandLineTest, RunHandsBackTheConfiguration) {
  const Outcome run = Handle({"--kafka.topics=t"}, {{"KAFKA_SIDECAR_PROCESSING_BATCH_SIZE", "9"}});
  EXPECT_FALSE(run.exit_code.has_value()) << run.err;
  EXPECT_EQ(run.config.processing.batch_size, 9);
  EXPECT_EQ(run.config.kafka.topics, std::vector<std::string>{"t"});
  EXPECT_EQ(run.out, "");
}

TEST(HandleCommandLineTest, DevNeedsNoConfigurationAndStillTakesOverrides) {
  std::ostringstream out, err;
  Config config;
  bool dev = false;
  const std::optional<int> exit_code = HandleCommandLine(
      {"--dev", "--processing.batch_size=7"}, {}, out, err, &config, &dev);
  EXPECT_FALSE(exit_code.has_value()) << err.str();
  EXPECT_TRUE(dev);
  EXPECT_EQ(config.kafka.topics, std::vector<std::string>{"demo"});
  EXPECT_EQ(config.processing.dead_letter_topic, "demo.dlt");
  EXPECT_EQ(config.kafka.group_id, "kafka-sidecar-dev");
  EXPECT_EQ(config.processing.batch_size, 7);

  const Outcome without = Handle({}, {});
  EXPECT_EQ(without.exit_code, kExitUsage) << "no topics and no --dev must not start";
  EXPECT_FALSE(ParseCommandLine({"--dev=yes"}).ok());
}

TEST(HandleCommandLineTest, VersionHelpAndUsageErrors) {
  const Outcome version = Handle({"--version"}, {{"KAFKA_SIDECAR_BOGUS", "x"}});
  EXPECT_EQ(version.exit_code, kExitOk);
  // The second line names the librdkafka actually linked and its features.
  EXPECT_THAT(version.out,
              ::testing::StartsWith(absl::StrCat("kafka-sidecar ", KAFKA_SIDECAR_VERSION, "\n",
                                                 "librdkafka ", rd_kafka_version_str(), " (")));
  EXPECT_THAT(version.out, ::testing::HasSubstr("sasl_scram"));
  EXPECT_THAT(version.out, ::testing::HasSubstr("zstd"));

  const Outcome help = Handle({"--help"}, {});
  EXPECT_EQ(help.exit_code, kExitOk);
  EXPECT_EQ(help.out, UsageText());

  const Outcome usage = Handle({"--frobnicate"}, {});
  EXPECT_EQ(usage.exit_code, kExitUsage);
  EXPECT_THAT(usage.err, HasSubstr("kafka-sidecar: unknown flag --frobnicate\n"));
  EXPECT_THAT(usage.err, HasSubstr("--help"));

  const Outcome typo = Handle({"--kafka.topics=t"}, {{"KAFKA_SIDECAR_PROCESING_BATCH_SIZE", "7"}});
  EXPECT_EQ(typo.exit_code, kExitUsage);
  EXPECT_THAT(typo.err, HasSubstr("KAFKA_SIDECAR_PROCESING_BATCH_SIZE"));
}

}  // namespace
}  // namespace kafka_sidecar
