// kafka-sidecar --dev: no broker at all. The binary starts librdkafka's mock
// cluster with a demo topic and sample messages; a handler connects as it
// would to a real sidecar, settles, and invalid JSON goes to the demo
// dead-letter topic.
#include <csignal>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "kafka_sidecar/v1/sidecar.pb.h"
#include "tests/e2e/e2e_test_base.h"
#include "tests/support/ports.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_handler.h"

namespace kafka_sidecar::testing {
namespace {

class DevModeE2eTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && sidecar_ != nullptr) {
      std::cout << "---- kafka-sidecar --dev log ----\n" << ReadFile(sidecar_->log_path()) << "\n";
    }
  }
  std::unique_ptr<Subprocess> sidecar_;
};

TEST_F(DevModeE2eTest, ServesAHandlerWithNoKafkaAtAll) {
  const int grpc_port = PickFreePort();
  const std::string target = absl::StrCat("127.0.0.1:", grpc_port);
  const std::string log = absl::StrCat(::testing::TempDir(), "dev-mode-", ::getpid(), ".log");
  absl::StatusOr<std::unique_ptr<Subprocess>> spawned = Subprocess::Spawn(
      {KAFKA_SIDECAR_BINARY, "--dev", absl::StrCat("--server.grpc_listen=", target),
       "--server.http_listen=", "--processing.batch_timeout_ms=50"},
      log);
  ASSERT_TRUE(spawned.ok()) << spawned.status();
  sidecar_ = std::move(*spawned);
  ASSERT_TRUE(PollUntil([&] { return GetStats(target).ok(); }, absl::Seconds(30)))
      << "the --dev sidecar never served GetStats";

  TestHandler handler(HoldAll());
  handler.SetMessagePolicy([](const v1::Batch&, const v1::Message& m) {
    return absl::StartsWith(m.value(), "{") ? v1::OUTCOME_ACK : v1::OUTCOME_REJECT;
  });
  ASSERT_TRUE(handler.Connect(target).ok());
  // 10 sample messages a second, every 25th not JSON: within a few seconds
  // some are ACKed and at least one is dead-lettered into the mock cluster.
  absl::StatusOr<v1::GetStatsResponse> stats;
  ASSERT_TRUE(PollUntil(
      [&] {
        stats = GetStats(target);
        return stats.ok() && stats->messages_processed() >= 30 &&
               stats->messages_dead_lettered() >= 1;
      },
      absl::Seconds(60)))
      << (stats.ok() ? stats->ShortDebugString() : stats.status().ToString());
  EXPECT_EQ(stats->group_id(), "kafka-sidecar-dev");
  ASSERT_EQ(stats->partitions_size(), 3);
  EXPECT_EQ(stats->partitions(0).topic(), "demo");
  EXPECT_EQ(stats->messages_failed(), stats->messages_dead_lettered());

  ASSERT_TRUE(sidecar_->Signal(SIGTERM).ok());
  absl::StatusOr<int> code = sidecar_->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(absl::StrContains(ReadFile(sidecar_->log_path()), "Not for production"));
}

}  // namespace
}  // namespace kafka_sidecar::testing
