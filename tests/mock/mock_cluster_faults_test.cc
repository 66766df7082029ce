// Fault injection against librdkafka's mock cluster (SPEC §6): the sidecar
// runs in-process (SidecarApp) against three mock brokers, a TestHandler
// ACKs what it receives, and the mock cluster fails offset commits, moves the
// group coordinator, takes a partition leader down or moves leadership. In
// every case every message must be ACKed at least once and the group's
// committed offsets, read back from the coordinator by an independent client,
// must reach the end of every partition (SPEC §3 "Commits", "Shutdown").
//
// Each test checks that its fault really happened: per-broker error stacks
// of the mock cluster are polled until the pushed errors were returned to
// requests. A {NO_ERROR, 0} entry is a probe that fails nothing and shows
// that a request of that type reached that broker (no reliance on the mock
// cluster's request tracking).
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/config.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "sidecar/app/sidecar_app.h"
#include "sidecar/config/config.h"
#include "tests/mock/log_capture.h"
#include "tests/support/mock_cluster.h"
#include "tests/support/ports.h"
#include "tests/support/test_handler.h"

namespace kafka_sidecar::testing {
namespace {

constexpr int kBrokers = 3;
constexpr int kPartitions = 4;
constexpr int64_t kMessages = 5000;
constexpr int64_t kPerPartition = kMessages / kPartitions;
// Broker 1 coordinates the group and leads partitions 0 and 2; broker 2
// leads 1 and 3; broker 3 leads nothing until a test moves leadership there.
constexpr int32_t kCoordinator = 1;
constexpr int32_t kLeaderOf[kPartitions] = {1, 2, 1, 2};
constexpr int32_t kFaultyLeader = 2;
constexpr int32_t kIdleBroker = 3;
const std::vector<int32_t> kFaultyPartitions = {1, 3};

// Generous: two cores shared with other builds.
constexpr absl::Duration kConsumeTimeout = absl::Seconds(120);
constexpr absl::Duration kCommitTimeout = absl::Seconds(60);
constexpr absl::Duration kFaultTimeout = absl::Seconds(60);

const char kTopic[] = "faults";
const char kGroup[] = "mock-sidecar";

std::string Format(const PartitionOffsets& offsets) {
  if (offsets.empty()) return "{}";
  return absl::StrCat(
      "{", absl::StrJoin(offsets, ", ", [](std::string* out, const auto& e) {
        absl::StrAppend(out, e.first, ":", e.second);
      }), "}");
}

size_t AckedOf(const HandlerState& s, int32_t partition) {
  auto it = s.acked.find({kTopic, partition});
  return it == s.acked.end() ? 0 : it->second.size();
}

// Every offset 0 .. end-1 of every partition was ACKed at least once.
bool AckedEverything(const HandlerState& s, const PartitionOffsets& end) {
  for (const auto& [p, last] : end) {
    auto it = s.acked.find({kTopic, p});
    const int64_t n = it == s.acked.end() ? 0 : static_cast<int64_t>(it->second.size());
    if (n != last) return false;
    if (n > 0 && (*it->second.begin() != 0 || *it->second.rbegin() != last - 1)) return false;
  }
  return true;
}

std::string DescribeAcked(const HandlerState& s) {
  std::string out = absl::StrCat("acked ", s.acked_count, " distinct of ", kMessages, " (");
  for (int32_t p = 0; p < kPartitions; ++p) {
    absl::StrAppend(&out, p == 0 ? "" : ", ", "p", p, ":", AckedOf(s, p));
  }
  absl::StrAppend(&out, "), received ", s.received_count, ", held batches ", s.held.size());
  return out;
}

class MockClusterFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef ABSL_HAVE_THREAD_SANITIZER
    GTEST_SKIP() << "runs gRPC in-process, whose synchronisation TSan cannot see "
                    "(scripts/sanitize.sh)";
#endif
    const absl::Time t0 = absl::Now();
    absl::StatusOr<std::unique_ptr<MockCluster>> cluster = MockCluster::Create(kBrokers);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    ASSERT_TRUE(cluster_->CreateTopic(kTopic, kPartitions, kBrokers).ok());
    for (int32_t p = 0; p < kPartitions; ++p) {
      ASSERT_TRUE(cluster_->SetPartitionLeader(kTopic, p, kLeaderOf[p]).ok());
    }
    ASSERT_TRUE(cluster_->SetGroupCoordinator(kGroup, kCoordinator).ok());
    const absl::Status produced = cluster_->Produce(kTopic, kPartitions, kMessages);
    ASSERT_TRUE(produced.ok()) << produced;
    absl::StatusOr<PartitionOffsets> end = cluster_->EndOffsets(kTopic, kPartitions);
    ASSERT_TRUE(end.ok()) << end.status();
    end_ = *end;
    for (int32_t p = 0; p < kPartitions; ++p) {
      ASSERT_EQ(end_[p], kPerPartition) << "partition " << p;
    }
    absl::StatusOr<std::map<int32_t, int32_t>> leaders = cluster_->PartitionLeaders(kTopic);
    ASSERT_TRUE(leaders.ok()) << leaders.status();
    for (int32_t p = 0; p < kPartitions; ++p) {
      ASSERT_EQ((*leaders)[p], kLeaderOf[p]) << "leader of partition " << p;
    }
    std::cerr << "[ mock     ] cluster " << cluster_->bootstrap() << " with " << kMessages
              << " messages ready in " << absl::FormatDuration(absl::Now() - t0) << "\n";
  }

  void TearDown() override {
    if (cluster_ != nullptr) cluster_->SetBrokerUp(-1).IgnoreError();  // lets the app leave cleanly
    app_.reset();
    handler_.reset();
  }

  static Config MakeConfig(int32_t commit_interval_ms) {
    Config c;
    c.kafka.group_id = kGroup;
    c.kafka.topics = {kTopic};
    c.kafka.session_timeout_ms = 10000;
    c.kafka.heartbeat_interval_ms = 1000;
    c.kafka.properties = {
        // Small fetches: a partition takes many round trips, so a fault
        // injected mid-run meets records that have not been fetched yet.
        {"max.partition.fetch.bytes", "2048"},
        // Reconnect to a broker that comes back within a second, not ten.
        {"reconnect.backoff.max.ms", "1000"},
    };
    // e.g. SIDECAR_TEST_MOCK_DEBUG=cgrp,protocol: librdkafka's debug
    // contexts, logged through the sidecar's logger (run the test alone).
    if (const char* debug = std::getenv("SIDECAR_TEST_MOCK_DEBUG"); debug && *debug) {
      c.kafka.properties["debug"] = debug;
    }
    c.processing.commit_interval_ms = commit_interval_ms;
    c.processing.drain_timeout_ms = 5000;
    c.server.http_listen = "";
    c.observability.stats_interval_ms = 0;
    return c;
  }

  // Starts the sidecar on a free port (retrying if another process took it).
  void StartApp(Config config) {
    config.kafka.bootstrap_servers = cluster_->bootstrap();
    absl::Status last;
    for (int attempt = 0; attempt < 5; ++attempt) {
      const int port = PickFreePort();
      ASSERT_GT(port, 0);
      config.server.grpc_listen = absl::StrCat("127.0.0.1:", port);
      absl::StatusOr<std::unique_ptr<SidecarApp>> app = SidecarApp::Create(config);
      ASSERT_TRUE(app.ok()) << app.status();
      last = (*app)->Start();
      if (last.ok()) {
        app_ = std::move(*app);
        started_at_ = absl::Now();
        return;
      }
    }
    FAIL() << "sidecar did not start: " << last;
  }

  void ConnectHandler(SettlePolicy policy) {
    handler_ = std::make_unique<TestHandler>(std::move(policy));
    absl::StatusOr<v1::Subscribed> subscribed =
        handler_->Connect(app_->grpc_address(), {}, absl::Seconds(30));
    ASSERT_TRUE(subscribed.ok()) << subscribed.status();
  }

  // The handler ACKed some batches and holds the next one: the sidecar is
  // mid-run with records left in every sense (unsettled, unfetched).
  void WaitUntilHolding(int acked_batches) {
    const bool holding = handler_->WaitFor(
        [&](const HandlerState& s) {
          return s.batches_acked >= static_cast<uint64_t>(acked_batches) && !s.held.empty();
        },
        kConsumeTimeout);
    ASSERT_TRUE(holding) << DescribeAcked(handler_->Snapshot());
  }

  void ReleaseAndAckAll() {
    handler_->SetPolicy(AckAll());
    handler_->ReleaseHeld();
  }

  // Some offsets of the group reached the coordinator (the commit path works
  // before the fault is injected).
  void WaitForFirstCommit() {
    const absl::Time deadline = absl::Now() + kCommitTimeout;
    PartitionOffsets committed;
    while (absl::Now() < deadline) {
      absl::StatusOr<PartitionOffsets> got =
          cluster_->CommittedOffsets(kGroup, kTopic, kPartitions);
      if (got.ok() && !got->empty()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling the coordinator
    }
    FAIL() << "no offset of " << kGroup << " committed within "
           << absl::FormatDuration(kCommitTimeout);
  }

  void ExpectAllAcked() {
    const bool all = handler_->WaitFor(
        [&](const HandlerState& s) { return AckedEverything(s, end_); }, kConsumeTimeout);
    EXPECT_TRUE(all) << "messages lost: " << DescribeAcked(handler_->Snapshot());
  }

  void ExpectCommittedAtEnd(absl::Duration timeout = kCommitTimeout) {
    PartitionOffsets last;
    const bool reached = cluster_->WaitForCommitted(kGroup, kTopic, end_, timeout, &last);
    EXPECT_TRUE(reached) << "committed " << Format(last) << ", end " << Format(end_)
                         << "; sidecar commit warnings:\n"
                         << log_.Matching("commit");
  }

  void ExpectErrorsConsumed(int32_t broker, int16_t api_key, const std::string& what) {
    EXPECT_TRUE(cluster_->WaitForBrokerErrorsConsumed(broker, api_key, kFaultTimeout))
        << what << ": " << cluster_->BrokerErrorStackCount(broker, api_key).value_or(-1)
        << " pushed entries never reached broker " << broker;
  }

  void Report(const std::string& what) {
    std::cerr << "[ mock     ] " << what << " after "
              << absl::FormatDuration(absl::Now() - started_at_) << "\n";
  }

  // Declared first: outlives the app, whose threads log.
  LogCapture log_{std::getenv("SIDECAR_TEST_MOCK_DEBUG") != nullptr ? spdlog::level::debug
                                                                    : spdlog::level::info};
  std::unique_ptr<MockCluster> cluster_;
  PartitionOffsets end_;
  std::unique_ptr<SidecarApp> app_;
  std::unique_ptr<TestHandler> handler_;
  absl::Time started_at_;
};

// 1a. Transient OffsetCommit errors, several in a row, while consuming.
// librdkafka absorbs these itself: REQUEST_TIMED_OUT and
// COORDINATOR_LOAD_IN_PROGRESS are retried inside the request, NOT_COORDINATOR
// defers the commit until the coordinator is found again. Nothing reaches the
// sidecar's commit callback; the commits still reach the end.
TEST_F(MockClusterFaultsTest, TransientOffsetCommitErrorsAreRetriedUntilCommitsReachTheEnd) {
  StartApp(MakeConfig(/*commit_interval_ms=*/100));
  ConnectHandler(AckFirstNThenHold(5));
  WaitUntilHolding(5);
  WaitForFirstCommit();

  const std::vector<std::pair<rd_kafka_resp_err_t, int>> errors = {
      {RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, 0},
      {RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, 0},
      {RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, 0},
      {RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, 0},
      {RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, 0},
      {RD_KAFKA_RESP_ERR_NOT_COORDINATOR, 0},
      {RD_KAFKA_RESP_ERR_NOT_COORDINATOR, 0},
  };
  ASSERT_TRUE(cluster_->PushBrokerRequestErrors(kCoordinator, kApiOffsetCommit, errors).ok());
  ReleaseAndAckAll();

  ExpectErrorsConsumed(kCoordinator, kApiOffsetCommit, "OffsetCommit errors");
  Report("injected commit errors consumed");
  ExpectAllAcked();
  Report("all acked");
  ExpectCommittedAtEnd();
  Report("commits at the end");
  std::cerr << "[ mock     ] sidecar commit warnings:\n" << log_.Matching("kafka: offset commit");
}

// 1b. OffsetCommit keeps failing for longer than librdkafka retries a
// request: the failure reaches the sidecar, which logs it, and the sidecar's
// next periodic commit of its stored offsets carries them to the end.
TEST_F(MockClusterFaultsTest, FailedOffsetCommitsAreLoggedAndCommittedLater) {
  StartApp(MakeConfig(/*commit_interval_ms=*/100));
  ConnectHandler(AckFirstNThenHold(5));
  WaitUntilHolding(5);
  WaitForFirstCommit();
  ASSERT_EQ(log_.Count("kafka: offset commit", spdlog::level::warn), 0u);

  const std::vector<std::pair<rd_kafka_resp_err_t, int>> errors(
      12, {RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, 0});
  ASSERT_TRUE(cluster_->PushBrokerRequestErrors(kCoordinator, kApiOffsetCommit, errors).ok());
  ReleaseAndAckAll();

  ExpectErrorsConsumed(kCoordinator, kApiOffsetCommit, "OffsetCommit errors");
  Report("injected commit errors consumed");
  ExpectAllAcked();
  Report("all acked");
  ExpectCommittedAtEnd();
  Report("commits at the end");
  EXPECT_GT(log_.Count("kafka: offset commit", spdlog::level::warn), 0u)
      << "the sidecar did not log the failed commits; commit lines:\n"
      << log_.Matching("ommit");
  std::cerr << "[ mock     ] sidecar commit warnings:\n" << log_.Matching("kafka: offset commit");
}

// 2a. The group coordinator moves to another broker mid-run. The old one
// answers NOT_COORDINATOR (librdkafka's mock brokers accept group requests
// for any group whatever the coordinator, so the test pushes that answer);
// librdkafka finds the new coordinator and the commits land there.
TEST_F(MockClusterFaultsTest, GroupCoordinatorMovesMidRun) {
  StartApp(MakeConfig(/*commit_interval_ms=*/100));
  ConnectHandler(AckFirstNThenHold(5));
  WaitUntilHolding(5);
  WaitForFirstCommit();

  constexpr int32_t kNewCoordinator = 2;
  ASSERT_TRUE(cluster_
                  ->PushBrokerRequestErrors(kNewCoordinator, kApiOffsetCommit,
                                            {{RD_KAFKA_RESP_ERR_NO_ERROR, 0}})
                  .ok());
  ASSERT_TRUE(cluster_->SetGroupCoordinator(kGroup, kNewCoordinator).ok());
  ASSERT_TRUE(cluster_
                  ->PushBrokerRequestErrors(kCoordinator, kApiOffsetCommit,
                                            {{RD_KAFKA_RESP_ERR_NOT_COORDINATOR, 0}})
                  .ok());
  Report("coordinator moved");
  ReleaseAndAckAll();

  ExpectErrorsConsumed(kCoordinator, kApiOffsetCommit,
                       "NOT_COORDINATOR from the old coordinator");
  ExpectAllAcked();
  Report("all acked");
  ExpectCommittedAtEnd();
  Report("commits at the end");
  ExpectErrorsConsumed(kNewCoordinator, kApiOffsetCommit,
                       "probe: no OffsetCommit reached the new coordinator");
}

// 2b. The coordinator's broker goes down mid-run and stays down: the group
// coordinator and the leadership of its partitions fail over to the other
// brokers. The member keeps its place (the mock group outlives the broker),
// the partitions are fetched from their new leader, commits go to the new
// coordinator.
TEST_F(MockClusterFaultsTest, CoordinatorBrokerGoesDownAndEverythingFailsOver) {
  // Slow fetches from broker 1 so that its partitions are mid-run when it goes.
  ASSERT_TRUE(cluster_->SetBrokerRtt(kCoordinator, 30).ok());
  StartApp(MakeConfig(/*commit_interval_ms=*/100));
  ConnectHandler(AckAll());
  const std::vector<int32_t> led_by_coordinator = {0, 2};
  ASSERT_TRUE(handler_->WaitFor(
      [&](const HandlerState& s) {
        return AckedOf(s, led_by_coordinator[0]) >= 100 &&
               AckedOf(s, led_by_coordinator[1]) >= 100;
      },
      kConsumeTimeout))
      << DescribeAcked(handler_->Snapshot());
  WaitForFirstCommit();

  constexpr int32_t kNewCoordinator = 2;
  ASSERT_TRUE(cluster_
                  ->PushBrokerRequestErrors(kNewCoordinator, kApiOffsetCommit,
                                            {{RD_KAFKA_RESP_ERR_NO_ERROR, 0}})
                  .ok());
  ASSERT_TRUE(cluster_
                  ->PushBrokerRequestErrors(kIdleBroker, kApiFetch,
                                            {{RD_KAFKA_RESP_ERR_NO_ERROR, 0}})
                  .ok());
  ASSERT_TRUE(cluster_->SetBrokerDown(kCoordinator).ok());
  const HandlerState at_fault = handler_->Snapshot();
  ASSERT_TRUE(cluster_->SetGroupCoordinator(kGroup, kNewCoordinator).ok());
  for (int32_t p : led_by_coordinator) {
    ASSERT_TRUE(cluster_->SetPartitionLeader(kTopic, p, kIdleBroker).ok());
  }
  Report(absl::StrCat("broker ", kCoordinator, " down, coordinator now ", kNewCoordinator,
                      ", its partitions led by ", kIdleBroker, "; ", DescribeAcked(at_fault)));
  for (int32_t p : led_by_coordinator) {
    ASSERT_LT(static_cast<int64_t>(AckedOf(at_fault, p)), kPerPartition)
        << "partition " << p << " was finished before its leader went down: the test "
        << "injected the fault too late";
  }

  ExpectAllAcked();
  Report("all acked");
  ExpectCommittedAtEnd();
  Report("commits at the end");
  ExpectErrorsConsumed(kNewCoordinator, kApiOffsetCommit,
                       "probe: no OffsetCommit reached the new coordinator");
  ExpectErrorsConsumed(kIdleBroker, kApiFetch, "probe: no Fetch reached the new leader");
}

// 3a. The leader of two partitions goes down mid-run (leadership stays with
// it, as with a broker restart) and comes back: fetching resumes there.
TEST_F(MockClusterFaultsTest, PartitionLeaderGoesDownAndComesBack) {
  // Slow fetches from the faulty leader: its partitions are still being
  // fetched when it goes down.
  ASSERT_TRUE(cluster_->SetBrokerRtt(kFaultyLeader, 30).ok());
  StartApp(MakeConfig(/*commit_interval_ms=*/100));
  ConnectHandler(AckAll());
  ASSERT_TRUE(handler_->WaitFor(
      [](const HandlerState& s) {
        return AckedOf(s, kFaultyPartitions[0]) >= 100 && AckedOf(s, kFaultyPartitions[1]) >= 100;
      },
      kConsumeTimeout))
      << DescribeAcked(handler_->Snapshot());

  const std::string address = cluster_->BrokerAddress(kFaultyLeader);
  ASSERT_FALSE(address.empty());
  // librdkafka's report of a refused reconnect to that broker.
  const std::string refused = absl::StrCat(address, "/", kFaultyLeader, ": Connect to");
  const size_t noticed_before = log_.Count(refused, spdlog::level::warn);
  ASSERT_TRUE(cluster_->SetBrokerDown(kFaultyLeader).ok());
  const HandlerState at_fault = handler_->Snapshot();
  Report(absl::StrCat("broker ", kFaultyLeader, " down; ", DescribeAcked(at_fault)));
  for (int32_t p : kFaultyPartitions) {
    ASSERT_LT(static_cast<int64_t>(AckedOf(at_fault, p)), kPerPartition)
        << "partition " << p << " was finished before its leader went down: the test "
        << "injected the fault too late";
  }
  // Probe: a Fetch reaching the broker once it is back.
  ASSERT_TRUE(cluster_
                  ->PushBrokerRequestErrors(kFaultyLeader, kApiFetch,
                                            {{RD_KAFKA_RESP_ERR_NO_ERROR, 0}})
                  .ok());
  // The consumer noticed: a reconnect attempt was refused while it was down.
  EXPECT_TRUE(log_.WaitFor(refused, kFaultTimeout, spdlog::level::warn, noticed_before + 1))
      << "no refused reconnect to " << address << " reported after it went down";
  Report("consumer noticed");
  ASSERT_TRUE(cluster_->SetBrokerUp(kFaultyLeader).ok());

  ExpectAllAcked();
  Report("all acked");
  ExpectCommittedAtEnd();
  Report("commits at the end");
  ExpectErrorsConsumed(kFaultyLeader, kApiFetch, "probe: no Fetch after the broker came back");
  std::cerr << "[ mock     ] warnings about " << address << ":\n" << log_.Matching(address, 5);
}

// 3b. Failover: the leader of two partitions goes down mid-run and stays
// down; leadership moves to an idle broker, and the consumer follows it.
TEST_F(MockClusterFaultsTest, LeadershipMovesAwayFromABrokerThatWentDown) {
  ASSERT_TRUE(cluster_->SetBrokerRtt(kFaultyLeader, 30).ok());
  StartApp(MakeConfig(/*commit_interval_ms=*/100));
  ConnectHandler(AckAll());
  ASSERT_TRUE(handler_->WaitFor(
      [](const HandlerState& s) {
        return AckedOf(s, kFaultyPartitions[0]) >= 100 && AckedOf(s, kFaultyPartitions[1]) >= 100;
      },
      kConsumeTimeout))
      << DescribeAcked(handler_->Snapshot());

  ASSERT_TRUE(cluster_
                  ->PushBrokerRequestErrors(kIdleBroker, kApiFetch,
                                            {{RD_KAFKA_RESP_ERR_NO_ERROR, 0}})
                  .ok());
  ASSERT_TRUE(cluster_->SetBrokerDown(kFaultyLeader).ok());
  const HandlerState at_fault = handler_->Snapshot();
  for (int32_t p : kFaultyPartitions) {
    ASSERT_TRUE(cluster_->SetPartitionLeader(kTopic, p, kIdleBroker).ok());
  }
  Report(absl::StrCat("broker ", kFaultyLeader, " down, its partitions moved to broker ",
                      kIdleBroker, "; ", DescribeAcked(at_fault)));
  for (int32_t p : kFaultyPartitions) {
    ASSERT_LT(static_cast<int64_t>(AckedOf(at_fault, p)), kPerPartition)
        << "partition " << p << " was finished before its leader went down: the test "
        << "injected the fault too late";
  }

  ExpectAllAcked();
  Report("all acked");
  ExpectCommittedAtEnd();
  Report("commits at the end");
  ExpectErrorsConsumed(kIdleBroker, kApiFetch, "probe: no Fetch reached the new leader");
  absl::StatusOr<std::map<int32_t, int32_t>> leaders = cluster_->PartitionLeaders(kTopic);
  ASSERT_TRUE(leaders.ok()) << leaders.status();
  for (int32_t p : kFaultyPartitions) EXPECT_EQ((*leaders)[p], kIdleBroker);
}

// 4. The final commit on shutdown. commit_interval_ms is an hour, so no
// periodic commit runs: whatever the group has committed after Shutdown()
// was committed synchronously on the way out (revoke on close). Errors are
// pushed on the coordinator just before Shutdown(), so the final commit's
// first OffsetCommit request meets them.
struct ShutdownFault {
  std::string name;
  std::vector<rd_kafka_resp_err_t> errors;
};

// librdkafka tries an OffsetCommit request three times, about 100 ms
// apart, and absorbs NOT_COORDINATOR by waiting for the coordinator, so one
// transient error never reaches the sidecar; three timeouts in a row do, and
// the sidecar must then retry the final commit itself (the commit on revoke
// in KafkaConsumerImpl::OnRevoke is tried once, then the group is left).

// gtest prints the parameter by name, not as bytes.
void PrintTo(const ShutdownFault& fault, std::ostream* os) { *os << fault.name; }

class MockShutdownCommitTest : public MockClusterFaultsTest,
                               public ::testing::WithParamInterface<ShutdownFault> {};

TEST_P(MockShutdownCommitTest, FinalCommitReachesTheEnd) {
  StartApp(MakeConfig(/*commit_interval_ms=*/3600 * 1000));
  ConnectHandler(AckAll());
  ExpectAllAcked();
  ASSERT_FALSE(HasFailure());
  Report("all acked");

  absl::StatusOr<PartitionOffsets> before = cluster_->CommittedOffsets(kGroup, kTopic, kPartitions);
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_TRUE(before->empty()) << "something committed before shutdown: " << Format(*before);

  std::vector<std::pair<rd_kafka_resp_err_t, int>> errors;
  for (rd_kafka_resp_err_t e : GetParam().errors) errors.emplace_back(e, 0);
  ASSERT_TRUE(cluster_->PushBrokerRequestErrors(kCoordinator, kApiOffsetCommit, errors).ok());

  const absl::Time t0 = absl::Now();
  const absl::Status shut = app_->Shutdown();
  const absl::Duration took = absl::Now() - t0;
  std::cerr << "[ mock     ] Shutdown() took " << absl::FormatDuration(took) << ": " << shut
            << "\n";
  EXPECT_TRUE(shut.ok()) << shut;
  EXPECT_LT(took, absl::Seconds(30));

  // The final commit met every injected error (it is synchronous, so by now).
  absl::StatusOr<size_t> left = cluster_->BrokerErrorStackCount(kCoordinator, kApiOffsetCommit);
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_EQ(*left, 0u) << "injected OffsetCommit errors never reached the coordinator";

  absl::StatusOr<PartitionOffsets> after = cluster_->CommittedOffsets(kGroup, kTopic, kPartitions);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, end_) << "final commit lost: committed " << Format(*after) << ", end "
                          << Format(end_) << "; sidecar commit lines:\n"
                          << log_.Matching("ommit");
  std::cerr << "[ mock     ] commit lines:\n" << log_.Matching("ommit");
}

INSTANTIATE_TEST_SUITE_P(
    Faults, MockShutdownCommitTest,
    ::testing::Values(
        ShutdownFault{"NoFault", {}},
        ShutdownFault{"RequestTimedOut", {RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT}},
        ShutdownFault{"CoordinatorLoadInProgress", {RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS}},
        ShutdownFault{"NotCoordinator", {RD_KAFKA_RESP_ERR_NOT_COORDINATOR}},
        ShutdownFault{"ThreeRequestTimeouts",
                      {RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                       RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT}}),
    [](const ::testing::TestParamInfo<ShutdownFault>& info) { return info.param.name; });

}  // namespace
}  // namespace kafka_sidecar::testing
