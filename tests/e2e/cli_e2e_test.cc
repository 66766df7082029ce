// The kafka-sidecar binary's command line: --validate, --print-config,
// --version, --help and the environment, as an operator meets them; and the
// start-ups that must fail loudly (a port in use, no broker). No broker: a
// plain fixture, not E2eTest, and nothing here reaches Kafka.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/ports.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

#ifndef KAFKA_SIDECAR_BINARY
#error "the e2e target defines KAFKA_SIDECAR_BINARY"
#endif

namespace kafka_sidecar::testing {
namespace {

// gtest alone (the e2e target does not link gmock).
::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (absl::StrContains(text, part)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in:\n" << text;
}

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("cli_e2e");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = dir_->File(name);
    std::ofstream(path) << text;
    return path;
  }

  // Runs the binary with exactly `environment` (env -i): variables of the
  // test's own environment, KAFKA_SIDECAR_ ones included, must not leak in.
  Result Run(const std::vector<std::string>& args,
             const std::vector<std::pair<std::string, std::string>>& environment = {}) {
    std::vector<std::string> argv = {"env", "-i"};
    for (const char* pass : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"}) {
      if (const char* value = std::getenv(pass)) argv.push_back(absl::StrCat(pass, "=", value));
    }
    for (const auto& [name, value] : environment) argv.push_back(absl::StrCat(name, "=", value));
    argv.push_back(KAFKA_SIDECAR_BINARY);
    argv.insert(argv.end(), args.begin(), args.end());
    Result result;
    auto process = Subprocess::Spawn(argv, dir_->File(absl::StrCat("run", runs_++, ".log")));
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return result;
    const absl::StatusOr<int> code = (*process)->Wait(absl::Seconds(30));
    EXPECT_TRUE(code.ok()) << code.status();
    result.exit_code = code.ok() ? *code : -1;
    result.output = ReadFile((*process)->log_path());
    return result;
  }

  std::unique_ptr<TempDir> dir_;
  int runs_ = 0;
};

TEST_F(CliTest, ValidateAcceptsAGoodFile) {
  const std::string config = WriteFile("good.yaml", "kafka:\n  topics: [orders]\n");
  const Result r = Run({"--config", config, "--validate"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "configuration OK\n");
}

TEST_F(CliTest, ValidateRejectsABadValueNamingKeyAndSource) {
  const std::string config = WriteFile("bad.yaml", "kafka: {topics: [orders]}\nprocessing: {batch_size: 0}\n");
  const Result in_file = Run({"--config=" + config, "--validate"});
  EXPECT_EQ(in_file.exit_code, 2) << in_file.output;
  EXPECT_EQ(in_file.output,
            absl::StrCat("kafka-sidecar: invalid configuration: processing.batch_size: must be "
                         "at least 1, got 0 [in ", config, "]\n"));

  const Result from_env = Run({"--validate", "--kafka.topics=orders"},
                              {{"KAFKA_SIDECAR_PROCESSING_MAX_WORKERS", "0"}});
  EXPECT_EQ(from_env.exit_code, 2) << from_env.output;
  EXPECT_TRUE(Contains(from_env.output, "processing.max_workers: must be between 1 and 1024, got 0 (from "
                        "environment KAFKA_SIDECAR_PROCESSING_MAX_WORKERS)"));

  const Result from_flag = Run({"--validate", "--kafka.topics=orders", "--kafka.fetch_min_bytes", "x"});
  EXPECT_EQ(from_flag.exit_code, 2) << from_flag.output;
  EXPECT_TRUE(Contains(from_flag.output, "kafka.fetch_min_bytes: must be an integer, got \"x\" "
                                          "(from flag --kafka.fetch_min_bytes)"));
}

// kafka.properties go through librdkafka's own checks, as at start-up: a
// value or a name librdkafka refuses fails --validate (exit 2, key named,
// never a secret's value), and a good file still passes.
// Part of the hostile-peer suite (ctest -R Hostile): a configuration that
// --validate passed used to fail the real start.
class HostileValidateE2eTest : public CliTest {};

TEST_F(HostileValidateE2eTest, ValidateChecksKafkaPropertiesAsStartUpWould) {
  const std::string bad_value = WriteFile(
      "bad-value.yaml", "kafka:\n  topics: [orders]\n  properties: {fetch.max.bytes: banana}\n");
  const Result value = Run({"--config", bad_value, "--validate"});
  EXPECT_EQ(value.exit_code, 2) << value.output;
  EXPECT_TRUE(Contains(value.output,
                       "kafka-sidecar: invalid configuration: kafka.properties.fetch.max.bytes: "));
  EXPECT_TRUE(Contains(value.output, absl::StrCat("[in ", bad_value, "]\n")));
  EXPECT_FALSE(absl::StrContains(value.output, "configuration OK")) << value.output;

  const std::string unknown = WriteFile(
      "unknown.yaml",
      "kafka:\n  topics: [orders]\n  properties: {no.such.property: 1}\n"
      "processing: {dead_letter_topic: orders.dlt}\n");
  const Result name = Run({"--config", unknown, "--validate"});
  EXPECT_EQ(name.exit_code, 2) << name.output;
  EXPECT_TRUE(Contains(name.output, "kafka.properties.no.such.property: "));
  EXPECT_TRUE(Contains(name.output, "No such configuration property"));

  const Result secret =
      Run({"--validate", "--kafka.topics=orders"},
          {{"KAFKA_SIDECAR_KAFKA_PROPERTIES_SSL_KEYSTORE_PASSWD", "hunter2-secret"}});
  EXPECT_EQ(secret.exit_code, 2) << secret.output;
  EXPECT_TRUE(Contains(secret.output, "kafka.properties.ssl.keystore.passwd: "));
  EXPECT_FALSE(absl::StrContains(secret.output, "hunter2")) << secret.output;

  const std::string good = WriteFile(
      "good-properties.yaml",
      "kafka:\n  topics: [orders]\n  properties: {fetch.max.bytes: 1048576, client.rack: az-1}\n"
      "processing: {dead_letter_topic: orders.dlt}\n");
  const Result ok = Run({"--config", good, "--validate"});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_EQ(ok.output, "configuration OK\n");
}

TEST_F(CliTest, ConfigFileFromEnvironmentAndTyposInTheEnvironment) {
  const std::string config = WriteFile("env.yaml", "kafka: {topics: [orders]}\n");
  const Result ok = Run({"--validate"}, {{"KAFKA_SIDECAR_CONFIG", config}});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;

  const Result typo = Run({"--validate"}, {{"KAFKA_SIDECAR_CONFIG", config},
                                           {"KAFKA_SIDECAR_PROCESSING_BATCH_SIZ", "5"}});
  EXPECT_EQ(typo.exit_code, 2) << typo.output;
  EXPECT_TRUE(Contains(typo.output, "KAFKA_SIDECAR_PROCESSING_BATCH_SIZ matches no "
                                     "configuration key"));
}

TEST_F(CliTest, PrintConfigShowsTheWinningValuesAndRedactsSecrets) {
  const std::string config = WriteFile("print.yaml", R"(
kafka:
  topics: [from-file]
  group_id: file-group
  properties: {client.rack: az-1}
processing:
  batch_size: 10
  max_retries: 1
)");
  const Result r = Run({"--config", config, "--print-config", "--processing.batch_size=30",
                        "--kafka.group_id", "flag-group"},
                       {{"KAFKA_SIDECAR_PROCESSING_BATCH_SIZE", "20"},
                        {"KAFKA_SIDECAR_PROCESSING_MAX_RETRIES", "5"},
                        {"KAFKA_SIDECAR_KAFKA_GROUP_ID", "env-group"},
                        {"KAFKA_SIDECAR_KAFKA_PROPERTIES_SASL_PASSWORD", "hunter2-secret"}});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "  batch_size: 30\n"));          // flag > env > file
  EXPECT_TRUE(Contains(r.output, "  max_retries: 5\n"));          // env > file
  EXPECT_TRUE(Contains(r.output, "  group_id: \"flag-group\"\n"));  // flag > env > file
  EXPECT_TRUE(Contains(r.output, "  topics: [\"from-file\"]\n"));    // file
  EXPECT_TRUE(Contains(r.output, "\"client.rack\": \"az-1\""));
  EXPECT_TRUE(Contains(r.output, "\"sasl.password\": \"[redacted]\""));
  EXPECT_FALSE(absl::StrContains(r.output, "hunter2")) << r.output;

  // What it prints is a configuration file the binary accepts.
  const std::string printed = WriteFile("printed.yaml", r.output);
  const Result again = Run({"--config", printed, "--validate"});
  EXPECT_EQ(again.exit_code, 0) << again.output;
}

TEST_F(CliTest, PrintConfigOnAnInvalidConfigurationFails) {
  const Result r = Run({"--print-config"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "kafka.topics: must list at least one topic"));
}

TEST_F(CliTest, VersionAndHelp) {
  const Result version = Run({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(absl::StartsWith(version.output, "kafka-sidecar ")) << version.output;
  EXPECT_TRUE(absl::EndsWith(version.output, "\n")) << version.output;
  const std::vector<std::string> lines =
      absl::StrSplit(absl::StripSuffix(version.output, "\n"), '\n');
  ASSERT_EQ(lines.size(), 2u) << version.output;
  EXPECT_EQ(lines[0].find_first_not_of("0123456789.", 14), std::string::npos) << lines[0];
  // The second line names the librdkafka the binary was built with, and the
  // features it must have: a library configured without them fails at runtime.
  const std::vector<std::string> words = absl::StrSplit(lines[1], ' ');
  ASSERT_EQ(words.size(), 3u) << lines[1];
  EXPECT_EQ(words[0], "librdkafka");
  const std::vector<std::string> parts = absl::StrSplit(words[1], '.');
  ASSERT_EQ(parts.size(), 3u) << words[1];
  int major = 0, minor = 0, patch = 0;
  ASSERT_TRUE(absl::SimpleAtoi(parts[0], &major) && absl::SimpleAtoi(parts[1], &minor) &&
              absl::SimpleAtoi(parts[2], &patch))
      << words[1];
  EXPECT_GE(std::make_tuple(major, minor, patch), std::make_tuple(2, 13, 2)) << words[1];
  for (const char* feature : {"ssl", "sasl_scram", "zstd", "lz4"}) {
    EXPECT_TRUE(Contains(words[2], feature)) << words[2];
  }

  const Result help = Run({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* key : {"--kafka.bootstrap_servers", "--processing.batch_size",
                          "--server.tls.cert_file", "--observability.stall_timeout_ms",
                          "--kafka.properties.NAME", "--validate", "--print-config"}) {
    EXPECT_TRUE(Contains(help.output, key));
  }
  EXPECT_TRUE(Contains(help.output, "defaults < file < environment < flags"));
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  const Result unknown = Run({"--frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(Contains(unknown.output, "unknown flag --frobnicate"));

  const Result missing = Run({"--config"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(Contains(missing.output, "--config needs a value"));

  const Result no_file = Run({"--config", dir_->File("absent.yaml"), "--validate"});
  EXPECT_EQ(no_file.exit_code, 2);
  EXPECT_TRUE(Contains(no_file.output, "absent.yaml: cannot open: No such file or directory"));
}

// A listening socket on 127.0.0.1, held for the test's duration.
class HeldPort {
 public:
  HeldPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
        listen(fd_, 1) == 0 && getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port_ = ntohs(a.sin_port);
    }
  }
  ~HeldPort() {
    if (fd_ >= 0) close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST_F(CliTest, APortInUseExitsOneNamingTheAddressAndWhy) {
  HeldPort held;
  ASSERT_GT(held.port(), 0);
  const std::string taken = absl::StrCat("127.0.0.1:", held.port());
  const std::string grpc_free = absl::StrCat("127.0.0.1:", PickFreePort());
  const std::string http_free = absl::StrCat("127.0.0.1:", PickFreePort());

  const Result grpc = Run({"--kafka.topics=t", "--server.grpc_listen", taken,
                           "--server.http_listen", http_free});
  EXPECT_EQ(grpc.exit_code, 1);
  EXPECT_TRUE(Contains(grpc.output, absl::StrCat("server.grpc_listen: cannot listen on ", taken,
                                                 ": Address already in use")));

  const Result http = Run({"--kafka.topics=t", "--server.grpc_listen", grpc_free,
                           "--server.http_listen", taken});
  EXPECT_EQ(http.exit_code, 1);
  EXPECT_TRUE(Contains(http.output, absl::StrCat("server.http_listen: cannot listen on ", taken,
                                                 ": Address already in use")));
}

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  close(fd);
  return ok;
}

// gRPC would share a port with SO_REUSEPORT; a second sidecar must not.
TEST_F(CliTest, ASecondSidecarOnTheSameGrpcPortExitsOne) {
  const int grpc_port = PickFreePort();
  const std::string grpc = absl::StrCat("127.0.0.1:", grpc_port);
  auto first = Subprocess::Spawn(
      {KAFKA_SIDECAR_BINARY, "--kafka.topics=t", "--server.grpc_listen", grpc,
       "--server.http_listen", absl::StrCat("127.0.0.1:", PickFreePort())},
      dir_->File("first.log"));
  ASSERT_TRUE(first.ok()) << first.status();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!Accepts(grpc_port) && absl::Now() < deadline && (*first)->Running()) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(Accepts(grpc_port)) << ReadFile((*first)->log_path());

  const Result second = Run({"--kafka.topics=t", "--server.grpc_listen", grpc,
                             "--server.http_listen", absl::StrCat("127.0.0.1:", PickFreePort())});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_TRUE(Contains(second.output, absl::StrCat("server.grpc_listen: cannot listen on ", grpc,
                                                   ": Address already in use")));
  ASSERT_TRUE((*first)->Signal(SIGTERM).ok());
  const absl::StatusOr<int> code = (*first)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << ReadFile((*first)->log_path());
}

TEST_F(CliTest, NoBrokerWithinTheStartupTimeoutExitsOneWithTheLastError) {
  // Nothing listens there: every connection attempt is refused.
  const std::string bootstrap = absl::StrCat("127.0.0.1:", PickFreePort());
  const Result r = Run({"--kafka.topics=t", "--kafka.bootstrap_servers", bootstrap,
                        "--kafka.startup_timeout_ms=1000",
                        "--observability.health_check_interval_ms=200",
                        "--server.grpc_listen", absl::StrCat("127.0.0.1:", PickFreePort()),
                        "--server.http_listen", absl::StrCat("127.0.0.1:", PickFreePort())});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.output, absl::StrCat("start-up failed: no Kafka broker reached at ",
                                              bootstrap)));
  EXPECT_TRUE(Contains(r.output, "(kafka.startup_timeout_ms); last error: "));
  EXPECT_TRUE(Contains(r.output, "Connection refused"));
  EXPECT_TRUE(Contains(r.output, "shutdown: done"));
}

}  // namespace
}  // namespace kafka_sidecar::testing
