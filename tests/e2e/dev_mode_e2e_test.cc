// kafka-sidecar --dev: no broker at all. The binary starts librdkafka's mock
// cluster with a demo topic and sample messages; a handler connects as it
// would to a real sidecar, settles, and invalid JSON goes to the demo
// dead-letter topic. The example handlers in client_examples/ are run against
// it too, since --dev is what the README tells a handler author to try first.
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "kafka_sidecar/v1/sidecar.pb.h"
#include "tests/e2e/client_example_e2e.h"
#include "tests/e2e/e2e_test_base.h"
#include "tests/support/ports.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_handler.h"

namespace kafka_sidecar::testing {
namespace {

class DevModeE2eTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && sidecar_ != nullptr) {
      std::cout << "---- kafka-sidecar --dev log ----\n"
                << Tail(ReadFile(sidecar_->log_path()), 30000) << "\n---- end log ----"
                << std::endl;
    }
  }

  // Starts `kafka-sidecar --dev` on a free port and waits until it serves
  // GetStats: its gRPC target, or "" after recording the failure.
  std::string StartDevSidecar() {
    absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("dev-mode");
    if (!dir.ok()) {
      ADD_FAILURE() << dir.status();
      return "";
    }
    dir_ = std::move(*dir);
    const std::string target = absl::StrCat("127.0.0.1:", PickFreePort());
    absl::StatusOr<std::unique_ptr<Subprocess>> spawned = Subprocess::Spawn(
        {KAFKA_SIDECAR_BINARY, "--dev", absl::StrCat("--server.grpc_listen=", target),
         "--server.http_listen=", "--processing.batch_timeout_ms=50"},
        dir_->File("sidecar.log"));
    if (!spawned.ok()) {
      ADD_FAILURE() << spawned.status();
      return "";
    }
    sidecar_ = std::move(*spawned);
    if (!PollUntil([&] { return GetStats(target).ok(); }, absl::Seconds(30))) {
      ADD_FAILURE() << "the --dev sidecar never served GetStats on " << target;
      return "";
    }
    return target;
  }

  void StopDevSidecar() {
    ASSERT_TRUE(sidecar_->Signal(SIGTERM).ok());
    absl::StatusOr<int> code = sidecar_->Wait(absl::Seconds(30));
    ASSERT_TRUE(code.ok()) << "sidecar did not exit on SIGTERM: " << code.status();
    EXPECT_EQ(*code, 0) << "sidecar exit code on SIGTERM";
  }

  // Declared first so the processes are gone before their logs are removed.
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Subprocess> sidecar_;
};

TEST_F(DevModeE2eTest, ServesAHandlerWithNoKafkaAtAll) {
  const std::string target = StartDevSidecar();
  ASSERT_FALSE(target.empty());

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

  ASSERT_NO_FATAL_FAILURE(StopDevSidecar());
  EXPECT_TRUE(absl::StrContains(ReadFile(sidecar_->log_path()), "Not for production"));
}

// One example handler: how to start it and what setup it needs first.
struct ExampleHandler {
  struct Prerequisite {
    std::string path;
    int access_mode;    // for access(2)
    std::string setup;  // what creates it
  };
  std::string lang;
  std::vector<std::string> argv;
  std::vector<Prerequisite> prerequisites;
};

void PrintTo(const ExampleHandler& h, std::ostream* os) { *os << h.lang; }

std::vector<ExampleHandler> ExampleHandlers() {
  const std::string root = RepoRoot();
  const std::string python = root + "/.venv/bin/python3";
  const std::string go_binary = root + "/client_examples/go/bin/example-handler";
  return {
      {"python",
       // -u: unbuffered, so a failure's printed log shows the last lines.
       {python, "-u", root + "/client_examples/python/example_handler.py"},
       {{python, X_OK, "scripts/install-deps.sh"},
        {root + "/client_examples/python/kafka_sidecar_client/_proto/sidecar_pb2_grpc.py", R_OK,
         "client_examples/python/setup.sh"}}},
      // The binary setup.sh builds: it starts at once, where `go build` would
      // not on a cold cache.
      {"go", {go_binary}, {{go_binary, X_OK, "client_examples/go/setup.sh"}}},
      {"cpp", {CPP_EXAMPLE_HANDLER_BINARY}, {{CPP_EXAMPLE_HANDLER_BINARY, X_OK, "scripts/build.sh"}}},
  };
}

class ClientExampleDevE2eTest : public DevModeE2eTest,
                                public ::testing::WithParamInterface<ExampleHandler> {
 protected:
  void TearDown() override {
    if (HasFailure() && handler_ != nullptr) {
      std::cout << "---- " << GetParam().lang << " handler log ----\n"
                << Tail(ReadFile(handler_->log_path()), 20000) << "\n---- end log ----"
                << std::endl;
    }
    handler_.reset();
    DevModeE2eTest::TearDown();
  }

  std::unique_ptr<Subprocess> handler_;
};

TEST_P(ClientExampleDevE2eTest, ProcessesAndRejectsTheSampleOrders) {
  const ExampleHandler& example = GetParam();
  for (const ExampleHandler::Prerequisite& p : example.prerequisites) {
    ASSERT_EQ(::access(p.path.c_str(), p.access_mode), 0)
        << p.path << " missing: run " << p.setup;
  }

  const std::string target = StartDevSidecar();
  ASSERT_FALSE(target.empty());

  const std::string handler_name = absl::StrCat(example.lang, "-dev-e2e");
  // `env` execs the handler in place, so the child's pid is the handler's
  // and SIGTERM reaches it directly.
  std::vector<std::string> argv = {"/usr/bin/env", absl::StrCat("SIDECAR_ADDRESS=", target),
                                   absl::StrCat("HANDLER_NAME=", handler_name)};
  argv.insert(argv.end(), example.argv.begin(), example.argv.end());
  absl::StatusOr<std::unique_ptr<Subprocess>> spawned =
      Subprocess::Spawn(argv, dir_->File("handler.log"));
  ASSERT_TRUE(spawned.ok()) << spawned.status();
  handler_ = std::move(*spawned);

  // 10 orders a second, every 25th not JSON: the example rejects those, so
  // a few seconds in both paths have run. A handler that dies ends the wait.
  absl::StatusOr<v1::GetStatsResponse> stats;
  bool handler_running = true;
  ASSERT_TRUE(PollUntil(
      [&] {
        handler_running = handler_->Running();
        stats = GetStats(target);
        return !handler_running || (stats.ok() && stats->messages_processed() >= 30 &&
                                    stats->messages_dead_lettered() >= 1);
      },
      absl::Seconds(30)))
      << (stats.ok() ? stats->ShortDebugString() : stats.status().ToString());
  ASSERT_TRUE(handler_running) << "the " << example.lang << " handler exited early";
  ASSERT_TRUE(stats.ok()) << stats.status();
  bool named = false;
  for (const auto& s : stats->streams()) named = named || s.handler_name() == handler_name;
  EXPECT_TRUE(named) << "no stream named " << handler_name << " (HANDLER_NAME not used?): "
                     << stats->ShortDebugString();

  // SIGTERM: stop taking work, settle, exit 0.
  ASSERT_TRUE(handler_->Signal(SIGTERM).ok());
  absl::StatusOr<int> exited = handler_->Wait(absl::Seconds(30));
  ASSERT_TRUE(exited.ok()) << "handler did not exit on SIGTERM: " << exited.status();
  EXPECT_EQ(*exited, 0) << "handler exit code on SIGTERM";

  ASSERT_NO_FATAL_FAILURE(StopDevSidecar());
}

INSTANTIATE_TEST_SUITE_P(DevMode, ClientExampleDevE2eTest,
                         ::testing::ValuesIn(ExampleHandlers()),
                         [](const ::testing::TestParamInfo<ExampleHandler>& info) {
                           return info.param.lang;
                         });

}  // namespace
}  // namespace kafka_sidecar::testing
