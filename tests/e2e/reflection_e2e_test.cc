// End-to-end: SPEC section 5 — server reflection and the grpc.health.v1
// service, seen the way an operator sees them, through grpcurl.
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "kafka_sidecar/v1/sidecar.pb.h"
#include "tests/e2e/e2e_test_base.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

#ifndef GRPCURL_BINARY
#error "the e2e target defines GRPCURL_BINARY"
#endif

namespace kafka_sidecar::testing {
namespace {

constexpr char kGrpcurl[] = GRPCURL_BINARY;
constexpr char kService[] = "kafka_sidecar.v1.ConsumerSidecar";

struct ToolResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

class ReflectionE2eTest : public E2eTest {
 protected:
  void SetUp() override {
    // Missing tooling is a broken test environment, not a reason to skip.
    ASSERT_EQ(::access(kGrpcurl, X_OK), 0)
        << kGrpcurl << " not found: run scripts/install-deps.sh to install grpcurl";
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("kafka-sidecar-grpcurl");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::move(*dir);
    group_ = Unique("group");
    const std::string topic = Unique("topic");
    absl::StatusOr<Offsets> end = PrepareTopic(topic, 1, 0);
    ASSERT_TRUE(end.ok()) << end.status();
    sidecar_ = StartSidecar(Options(group_, {topic}));
    ASSERT_NE(sidecar_, nullptr);
  }

  // grpcurl -plaintext <args before the address> <address> <args after>.
  ToolResult Grpcurl(const std::vector<std::string>& flags, const std::vector<std::string>& rest) {
    std::vector<std::string> argv = {kGrpcurl, "-plaintext"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back(sidecar_->grpc_target());
    argv.insert(argv.end(), rest.begin(), rest.end());
    const std::string log = dir_->File(absl::StrCat("grpcurl-", ++runs_, ".out"));
    ToolResult result;
    absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Spawn(argv, log);
    if (!p.ok()) {
      result.output = p.status().ToString();
      return result;
    }
    absl::StatusOr<int> code = (*p)->Wait(absl::Seconds(30));
    result.exit_code = code.ok() ? *code : -1;
    result.output = absl::StrCat(ReadFile(log), code.ok() ? "" : code.status().ToString());
    return result;
  }

  std::unique_ptr<TempDir> dir_;
  SidecarProcess* sidecar_ = nullptr;
  std::string group_;
  int runs_ = 0;
};

TEST_F(ReflectionE2eTest, ListsAndDescribesTheServices) {
  const ToolResult list = Grpcurl({}, {"list"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find(kService), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("grpc.health.v1.Health"), std::string::npos) << list.output;

  const ToolResult describe = Grpcurl({}, {"describe", kService});
  ASSERT_EQ(describe.exit_code, 0) << describe.output;
  for (const char* rpc : {"Consume", "GetStats", "PausePartitions", "ResumePartitions"}) {
    EXPECT_NE(describe.output.find(absl::StrCat("rpc ", rpc, " (")), std::string::npos)
        << rpc << " missing in:\n" << describe.output;
  }
}

TEST_F(ReflectionE2eTest, GetStatsAnswersAsJson) {
  const ToolResult call = Grpcurl({"-d", "{}"}, {absl::StrCat(kService, "/GetStats")});
  ASSERT_EQ(call.exit_code, 0) << call.output;
  v1::GetStatsResponse stats;
  const auto parsed = google::protobuf::util::JsonStringToMessage(call.output, &stats);
  ASSERT_TRUE(parsed.ok()) << parsed.ToString() << "\n" << call.output;
  EXPECT_EQ(stats.group_id(), group_) << call.output;
  EXPECT_GT(stats.uptime_seconds(), 0) << call.output;
}

TEST_F(ReflectionE2eTest, HealthCheckReportsServing) {
  // The status is the health monitor's call; a started, connected sidecar
  // gets to SERVING, the wait only covers the monitor's first round.
  for (const std::string& service : {std::string(), std::string(kService)}) {
    SCOPED_TRACE(service.empty() ? "whole server" : service);
    ToolResult check;
    const bool serving = PollUntil(
        [&] {
          check = Grpcurl({"-d", absl::StrCat("{\"service\": \"", service, "\"}")},
                          {"grpc.health.v1.Health/Check"});
          return check.exit_code == 0 &&
                 check.output.find("\"SERVING\"") != std::string::npos;
        },
        absl::Seconds(30), absl::Milliseconds(500));
    EXPECT_TRUE(serving) << "last answer (exit " << check.exit_code << "):\n" << check.output;
  }
}

}  // namespace
}  // namespace kafka_sidecar::testing
