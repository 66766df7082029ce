// Kafka security end to end: the kafka-sidecar binary against the SASL
// listener of a real broker (scripts/kafka.sh start --sasl), with the
// credentials in kafka.properties from the YAML file or the environment. The
// password must get the sidecar in, a wrong one must be reported clearly
// without the sidecar giving up, and the password must never show: not in
// the log (at debug level, librdkafka's included), not in GetStats, the HTTP
// admin endpoints or --print-config.
//
// PLAIN runs against Kafka 4.1.1. SCRAM runs against Kafka 3.9.1: librdkafka
// before 2.6.1 (Debian bookworm has 2.0.2) cannot log in with SCRAM to Kafka
// 4.x, which KafkaSecurityTest pins down.
#include <librdkafka/rdkafka.h>
#include <sys/stat.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_test_base.h"
#include "tests/support/kafka_broker.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/ports.h"
#include "tests/support/sidecar_process.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_handler.h"

namespace kafka_sidecar::testing {
namespace {

constexpr char kUser[] = "sidecar";
constexpr int kPartitions = 3;
constexpr int64_t kMessages = 300;
constexpr char kPasswordVariable[] = "KAFKA_SIDECAR_KAFKA_PROPERTIES_SASL_PASSWORD";
constexpr char kAuthFailedLine[] = "kafka: authentication failed: ";
constexpr char kCredentialsHint[] = "(check kafka.properties sasl.username / sasl.password";
// librdkafka before 2.6.1 answers a SCRAM challenge in a way Kafka 4.0+
// brokers reject whatever the password (fixed by librdkafka PR 4895).
constexpr int kLibrdkafkaScramFixed = 0x020601ff;
// The newest release whose brokers accept that answer, and the default one.
constexpr char kKafka3[] = "3.9.1";
constexpr char kKafka4[] = "4.1.1";

// Distinctive enough that finding it anywhere cannot be a coincidence.
std::string RandomSecret(const std::string& prefix) {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::random_device device;
  std::mt19937_64 random(device());
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string secret = prefix;
  for (int i = 0; i < 24; ++i) secret.push_back(kAlphabet[pick(random)]);
  return secret;
}

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }

size_t Occurrences(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// gtest alone (the e2e target does not link gmock).
::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (absl::StrContains(text, part)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in:\n" << Tail(text, 20000);
}

// The secret itself is not repeated in the failure message: only where.
::testing::AssertionResult Lacks(const std::string& text, const std::string& secret) {
  const size_t at = text.find(secret);
  if (at == std::string::npos) return ::testing::AssertionSuccess();
  const size_t from = at > 200 ? at - 200 : 0;
  return ::testing::AssertionFailure()
         << "the secret appears " << Occurrences(text, secret) << " time(s), first after:\n"
         << text.substr(from, at - from) << "<SECRET>";
}

// One SASL broker of `version` per suite instead of the base fixture's
// plain one; bootstrap() stays the PLAINTEXT listener for producing and for
// Kafka's tools, the sidecar uses sasl_bootstrap().
class SaslBrokerTest : public E2eTest {
 protected:
  static void StartSaslBroker(const std::string& version) {
    password_ = new std::string(RandomSecret("Pw"));
    const absl::Time start = absl::Now();
    KafkaBrokerOptions options;
    options.sasl = SaslUser{kUser, *password_};
    options.version = version;
    absl::StatusOr<std::unique_ptr<KafkaBroker>> broker = KafkaBroker::Start(options);
    if (broker.ok()) {
      broker_ = broker->release();
      std::cout << "[ INFO     ] Kafka " << broker_->version() << " broker "
                << broker_->bootstrap() << ", SASL " << broker_->sasl_bootstrap()
                << ", started in " << absl::FormatDuration(absl::Now() - start) << std::endl;
    } else {
      broker_error_ = new std::string(broker.status().ToString());
    }
  }

  static void TearDownTestSuite() {
    E2eTest::TearDownTestSuite();
    delete password_;
    password_ = nullptr;
  }

  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    auto dir = TempDir::Create("kafka_security_e2e");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
  }

  static const std::string& password() { return *password_; }

  // A sidecar on the SASL listener with `mechanism`; the password goes into
  // kafka.properties unless it is nullopt (the environment supplies it).
  static SidecarOptions SaslOptions(const std::string& group, const std::string& topic,
                                    const std::string& mechanism,
                                    const std::optional<std::string>& sasl_password) {
    std::vector<std::string> properties = {
        absl::StrCat(Quoted("security.protocol"), ": ", Quoted("SASL_PLAINTEXT")),
        absl::StrCat(Quoted("sasl.mechanisms"), ": ", Quoted(mechanism)),
        absl::StrCat(Quoted("sasl.username"), ": ", Quoted(kUser)),
    };
    if (sasl_password) {
      properties.push_back(absl::StrCat(Quoted("sasl.password"), ": ", Quoted(*sasl_password)));
    }
    SidecarOptions options = Options(group, {topic});
    options.bootstrap = broker_->sasl_bootstrap();
    options.overrides["kafka.properties"] = absl::StrCat("{", absl::StrJoin(properties, ", "), "}");
    return options;
  }

  // The same binary with the password in its environment, as a Kubernetes
  // Secret mounted through env would give it.
  std::string BinaryWithPasswordInEnvironment(const std::string& secret) {
    const std::string path = dir_->File("kafka-sidecar-with-env");
    {
      std::ofstream script(path);
      script << "#!/bin/sh\nexport " << kPasswordVariable << "='" << secret << "'\nexec '"
             << kSidecarBinary << "' \"$@\"\n";
    }
    ::chmod(path.c_str(), 0700);
    return path;
  }

  // `binary --config FILE --print-config`: its exit code and output.
  std::pair<int, std::string> PrintConfig(const std::string& binary,
                                          const std::string& config_path) {
    const std::string log = dir_->File(absl::StrCat("print-config-", runs_++, ".log"));
    auto process = Subprocess::Spawn({binary, "--config", config_path, "--print-config"}, log);
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return {-1, ""};
    absl::StatusOr<int> code = (*process)->Wait(absl::Seconds(30));
    EXPECT_TRUE(code.ok()) << code.status();
    return {code.ok() ? *code : -1, ReadFile(log)};
  }

  // Consumes the whole topic through `sidecar` and waits for Kafka to hold
  // the commits.
  void ConsumeAll(SidecarProcess* sidecar, TestHandler* handler, const std::string& group,
                  const std::string& topic, const Offsets& end) {
    absl::StatusOr<v1::Subscribed> subscribed = handler->Connect(sidecar->grpc_target());
    ASSERT_TRUE(subscribed.ok()) << subscribed.status();
    ASSERT_TRUE(handler->WaitFor(
        [](const HandlerState& s) { return s.distinct_count >= static_cast<uint64_t>(kMessages); },
        absl::Seconds(90)))
        << "distinct messages received: " << handler->DistinctCount() << " of " << kMessages;
    EXPECT_EQ(handler->DistinctCount(), static_cast<uint64_t>(kMessages));
    absl::Status committed = AwaitCommittedAtEnd(group, topic, end, absl::Seconds(60));
    EXPECT_TRUE(committed.ok()) << committed;
  }

  // Neither GetStats nor any admin endpoint shows `secret`.
  void ExpectNotServed(SidecarProcess* sidecar, int http_port, const std::string& secret) {
    absl::StatusOr<v1::GetStatsResponse> stats = GetStats(sidecar->grpc_target());
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_TRUE(Lacks(stats->DebugString(), secret)) << "GetStats";
    for (const char* path : {"/stats", "/metrics", "/healthz", "/readyz"}) {
      absl::StatusOr<HttpResponse> response = HttpGet(http_port, path);
      ASSERT_TRUE(response.ok()) << path << ": " << response.status();
      EXPECT_TRUE(Lacks(response->body, secret)) << "GET " << path;
    }
  }

  std::unique_ptr<TempDir> dir_;
  int runs_ = 0;

 private:
  static inline std::string* password_ = nullptr;
};

// PLAIN against Kafka 4.
class KafkaSecurityTest : public SaslBrokerTest {
 protected:
  static void SetUpTestSuite() { StartSaslBroker(kKafka4); }
};

TEST_F(KafkaSecurityTest, PlainPasswordFromTheFileConsumesCommitsAndIsNeverShown) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, kPartitions, kMessages);
  ASSERT_TRUE(end.ok()) << end.status();

  SidecarOptions options = SaslOptions(group, topic, "PLAIN", password());
  // As chatty as it gets: the sidecar's debug lines and librdkafka's
  // configuration dump, security handshake, protocol and group traffic.
  options.overrides["observability.log_level"] = Quoted("debug");
  options.overrides["kafka.properties"].insert(
      1, absl::StrCat(Quoted("debug"), ": ", Quoted("conf,security,broker,protocol,cgrp"), ", "));
  const int http_port = PickFreePort();
  options.overrides["server.http_listen"] = Quoted(absl::StrCat("127.0.0.1:", http_port));
  SidecarProcess* sidecar = StartSidecar(options);
  ASSERT_NE(sidecar, nullptr);
  TestHandler handler(AckAll());
  ASSERT_NO_FATAL_FAILURE(ConsumeAll(sidecar, &handler, group, topic, *end));

  ExpectNotServed(sidecar, http_port, password());
  const auto [code, printed] = PrintConfig(kSidecarBinary, sidecar->config_path());
  EXPECT_EQ(code, 0) << printed;
  EXPECT_TRUE(Contains(printed, "sasl.password"));
  EXPECT_TRUE(Lacks(printed, password())) << "--print-config";

  absl::StatusOr<int> exit_code = sidecar->Terminate();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
  const std::string log = sidecar->log();
  // librdkafka did dump its configuration, with the password redacted.
  EXPECT_TRUE(Contains(log, "sasl.password = [redacted]"));
  EXPECT_TRUE(Contains(log, "kafka: assigned"));
  EXPECT_TRUE(Lacks(log, password())) << "sidecar log";
}

TEST_F(KafkaSecurityTest, PlainPasswordFromTheEnvironmentConsumesAndIsNeverShown) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, kPartitions, kMessages);
  ASSERT_TRUE(end.ok()) << end.status();

  SidecarOptions options = SaslOptions(group, topic, "PLAIN", std::nullopt);
  options.binary = BinaryWithPasswordInEnvironment(password());
  options.overrides["observability.log_level"] = Quoted("debug");
  SidecarProcess* sidecar = StartSidecar(options);
  ASSERT_NE(sidecar, nullptr);
  EXPECT_TRUE(Lacks(ReadFile(sidecar->config_path()), password())) << "the config file";
  TestHandler handler(AckAll());
  ASSERT_NO_FATAL_FAILURE(ConsumeAll(sidecar, &handler, group, topic, *end));

  const auto [code, printed] = PrintConfig(options.binary, sidecar->config_path());
  EXPECT_EQ(code, 0) << printed;
  EXPECT_TRUE(Contains(printed, "sasl.password"));
  EXPECT_TRUE(Lacks(printed, password())) << "--print-config";

  absl::StatusOr<int> exit_code = sidecar->Terminate();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
  EXPECT_TRUE(Lacks(sidecar->log(), password())) << "sidecar log";
}

// A wrong password fails every attempt; librdkafka keeps retrying, so the
// sidecar keeps running (the secret may be rotated under it), not ready, and
// says what is wrong once rather than on every retry.
TEST_F(KafkaSecurityTest, WrongPasswordIsReportedOnceAndTheSidecarKeepsRunning) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, kPartitions, kMessages);
  ASSERT_TRUE(end.ok()) << end.status();

  const std::string wrong = RandomSecret("Wrong");
  SidecarOptions options = SaslOptions(group, topic, "PLAIN", wrong);
  const int http_port = PickFreePort();
  options.overrides["server.http_listen"] = Quoted(absl::StrCat("127.0.0.1:", http_port));
  options.overrides["observability.log_level"] = Quoted("debug");
  SidecarProcess* sidecar = StartSidecar(options);
  ASSERT_NE(sidecar, nullptr);
  TestHandler handler(AckAll());
  ASSERT_TRUE(handler.Connect(sidecar->grpc_target()).ok());

  ASSERT_TRUE(PollUntil([&] { return absl::StrContains(sidecar->log(), kAuthFailedLine); },
                        absl::Seconds(30)))
      << "no authentication error logged:\n" << Tail(sidecar->log(), 20000);
  // librdkafka reports the second failure as "... 1 identical error(s)
  // suppressed)"; by then the sidecar has seen a repeat it must not log.
  ASSERT_TRUE(PollUntil(
      [&] { return absl::StrContains(sidecar->log(), "identical error(s) suppressed"); },
      absl::Seconds(30)))
      << "librdkafka reported no second failure:\n" << Tail(sidecar->log(), 20000);

  const std::string log = sidecar->log();
  EXPECT_EQ(Occurrences(log, kAuthFailedLine), 1u) << Tail(log, 20000);
  EXPECT_TRUE(Contains(log, absl::StrCat(kAuthFailedLine,
                                         "SASL authentication error: Authentication failed")));
  EXPECT_TRUE(Contains(log, kCredentialsHint));
  EXPECT_TRUE(Lacks(log, wrong)) << "sidecar log";
  EXPECT_TRUE(Lacks(log, password())) << "sidecar log";

  EXPECT_TRUE(sidecar->Running());
  EXPECT_EQ(handler.ReceivedCount(), 0u);
  absl::StatusOr<HttpResponse> ready = HttpGet(http_port, "/readyz");
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_NE(ready->status, 200) << ready->body;
  ExpectNotServed(sidecar, http_port, wrong);
  absl::StatusOr<Offsets> committed = broker_->CommittedOffsets(group, topic);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_TRUE(committed->empty()) << Format(*committed);

  absl::StatusOr<int> exit_code = sidecar->Terminate();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_TRUE(Lacks(sidecar->log(), wrong)) << "sidecar log";
}

// SCRAM against Kafka 4: Kafka's own client proves the broker's credentials
// right; the sidecar then either consumes, or (linked to a librdkafka older
// than 2.6.1) says why it cannot, rather than only "invalid credentials".
TEST_F(KafkaSecurityTest, ScramWithKafka4ConsumesOrNamesTheLibrdkafkaIncompatibility) {
  const bool library_can_scram = rd_kafka_version() >= kLibrdkafkaScramFixed;
  std::cout << "[ INFO     ] librdkafka " << rd_kafka_version_str()
            << (library_can_scram ? " can" : " cannot") << " SCRAM with Kafka 4" << std::endl;
  const std::string mechanism = "SCRAM-SHA-512";
  absl::Status login = broker_->SaslLogin(mechanism, SaslUser{kUser, password()});
  ASSERT_TRUE(login.ok()) << login;

  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, kPartitions, kMessages);
  ASSERT_TRUE(end.ok()) << end.status();
  SidecarProcess* sidecar = StartSidecar(SaslOptions(group, topic, mechanism, password()));
  ASSERT_NE(sidecar, nullptr);
  TestHandler handler(AckAll());
  if (library_can_scram) {
    ASSERT_NO_FATAL_FAILURE(ConsumeAll(sidecar, &handler, group, topic, *end));
  } else {
    ASSERT_TRUE(handler.Connect(sidecar->grpc_target()).ok());
    ASSERT_TRUE(PollUntil([&] { return absl::StrContains(sidecar->log(), kAuthFailedLine); },
                          absl::Seconds(30)))
        << Tail(sidecar->log(), 20000);
    const std::string log = sidecar->log();
    EXPECT_TRUE(Contains(log, absl::StrCat("with SASL mechanism ", mechanism)));
    EXPECT_TRUE(Contains(log, absl::StrCat("if they are right: librdkafka ",
                                           rd_kafka_version_str(),
                                           ", which this sidecar uses, cannot log in with "
                                           "SCRAM to Apache Kafka 4.0 or later")));
    EXPECT_TRUE(sidecar->Running());
    EXPECT_EQ(handler.ReceivedCount(), 0u);
  }
  absl::StatusOr<int> exit_code = sidecar->Terminate();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_TRUE(Lacks(sidecar->log(), password())) << "sidecar log";
}

// SCRAM against the newest Kafka that every librdkafka can log in to.
class KafkaSecurityScramTest : public SaslBrokerTest {
 protected:
  static void SetUpTestSuite() { StartSaslBroker(kKafka3); }

  // The sidecar consumes and commits everything with `mechanism`, and the
  // password shows nowhere in its log.
  void ConsumesAndCommitsWith(const std::string& mechanism) {
    const std::string topic = Unique("topic");
    const std::string group = Unique("group");
    absl::StatusOr<Offsets> end = PrepareTopic(topic, kPartitions, kMessages);
    ASSERT_TRUE(end.ok()) << end.status();
    SidecarOptions options = SaslOptions(group, topic, mechanism, password());
    options.overrides["observability.log_level"] = Quoted("debug");
    SidecarProcess* sidecar = StartSidecar(options);
    ASSERT_NE(sidecar, nullptr);
    TestHandler handler(AckAll());
    ASSERT_NO_FATAL_FAILURE(ConsumeAll(sidecar, &handler, group, topic, *end));

    absl::StatusOr<int> exit_code = sidecar->Terminate();
    ASSERT_TRUE(exit_code.ok()) << exit_code.status();
    EXPECT_EQ(*exit_code, 0);
    const std::string log = sidecar->log();
    EXPECT_TRUE(Contains(log, "kafka: assigned"));
    EXPECT_FALSE(absl::StrContains(log, kAuthFailedLine)) << Tail(log, 20000);
    EXPECT_TRUE(Lacks(log, password())) << "sidecar log";
  }
};

TEST_F(KafkaSecurityScramTest, ScramSha256ConsumesAndCommits) {
  ConsumesAndCommitsWith("SCRAM-SHA-256");
}

TEST_F(KafkaSecurityScramTest, ScramSha512ConsumesAndCommits) {
  ConsumesAndCommitsWith("SCRAM-SHA-512");
}

// The broker's verdict, with where to look, and nothing else: the sidecar
// keeps running, not ready, delivering and committing nothing.
TEST_F(KafkaSecurityScramTest, WrongScramPasswordIsReportedAsInvalidCredentials) {
  const std::string topic = Unique("topic");
  const std::string group = Unique("group");
  absl::StatusOr<Offsets> end = PrepareTopic(topic, kPartitions, kMessages);
  ASSERT_TRUE(end.ok()) << end.status();

  const std::string wrong = RandomSecret("Wrong");
  SidecarOptions options = SaslOptions(group, topic, "SCRAM-SHA-256", wrong);
  const int http_port = PickFreePort();
  options.overrides["server.http_listen"] = Quoted(absl::StrCat("127.0.0.1:", http_port));
  options.overrides["observability.log_level"] = Quoted("debug");
  SidecarProcess* sidecar = StartSidecar(options);
  ASSERT_NE(sidecar, nullptr);
  TestHandler handler(AckAll());
  ASSERT_TRUE(handler.Connect(sidecar->grpc_target()).ok());

  ASSERT_TRUE(PollUntil([&] { return absl::StrContains(sidecar->log(), kAuthFailedLine); },
                        absl::Seconds(30)))
      << "no authentication error logged:\n" << Tail(sidecar->log(), 20000);
  const std::string log = sidecar->log();
  EXPECT_TRUE(Contains(log, absl::StrCat(kAuthFailedLine,
                                         "SASL authentication error: Authentication failed "
                                         "during authentication due to invalid credentials "
                                         "with SASL mechanism SCRAM-SHA-256")));
  EXPECT_TRUE(Contains(log, kCredentialsHint));
  EXPECT_TRUE(Lacks(log, wrong)) << "sidecar log";
  EXPECT_TRUE(Lacks(log, password())) << "sidecar log";

  EXPECT_TRUE(sidecar->Running());
  EXPECT_EQ(handler.ReceivedCount(), 0u);
  absl::StatusOr<HttpResponse> ready = HttpGet(http_port, "/readyz");
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_NE(ready->status, 200) << ready->body;
  absl::StatusOr<Offsets> committed = broker_->CommittedOffsets(group, topic);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_TRUE(committed->empty()) << Format(*committed);

  absl::StatusOr<int> exit_code = sidecar->Terminate();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_TRUE(Lacks(sidecar->log(), wrong)) << "sidecar log";
}

}  // namespace
}  // namespace kafka_sidecar::testing
