#include "sidecar/health/health_monitor.h"

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/fake_clock.h"

namespace kafka_sidecar {
namespace {

using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Return;
using ::testing::StrictMock;

class FakeKafka : public KafkaPartitionView {
 public:
  std::optional<PartitionOffsets> Offsets(const TopicPartition&) const override {
    return std::nullopt;
  }
  BrokerConnectivity Connectivity() const override { return connectivity; }
  BrokerConnectivity connectivity;
};

class FakeStats : public StatsSource {
 public:
  v1::GetStatsResponse Collect() const override { return stats; }
  v1::PartitionStats* AddPartition(const std::string& topic, int32_t partition) {
    v1::PartitionStats* p = stats.add_partitions();
    p->set_topic(topic);
    p->set_partition(partition);
    return p;
  }
  v1::GetStatsResponse stats;
};

class MockDispatcher : public Dispatcher {
 public:
  MOCK_METHOD(int, index, (), (const, override));
  MOCK_METHOD(void, Post, (DispatcherCommand command), (override));
  MOCK_METHOD(void, Wake, (), (override));
  MOCK_METHOD(void, Start, (), (override));
  MOCK_METHOD(void, Stop, (), (override));
  MOCK_METHOD(size_t, partition_count, (), (const, override));
  MOCK_METHOD(std::vector<v1::PartitionStats>, PartitionStatsSnapshot, (), (const, override));
  MOCK_METHOD(MonoTime, last_progress, (), (const, override));
  MOCK_METHOD(std::optional<std::string>, failure, (), (const, override));
  MOCK_METHOD(absl::Status, Restart, (), (override));
};

auto Check(const std::string& name, bool ok) {
  return AllOf(Field(&HealthCheck::name, name), Field(&HealthCheck::ok, ok));
}
auto NamedCheck(const std::string& name) { return Field(&HealthCheck::name, name); }

class HealthMonitorTest : public ::testing::Test {
 protected:
  HealthMonitorTest() {
    kafka_.connectivity.any_broker_up = true;
    kafka_.connectivity.last_up = clock_.Now();
    kafka_.connectivity.group_joined = true;
    ON_CALL(dispatcher_, index()).WillByDefault(Return(0));
    ON_CALL(dispatcher_, failure()).WillByDefault(Return(std::nullopt));
    ON_CALL(dispatcher_, last_progress()).WillByDefault([this] { return clock_.Now(); });
  }

  HealthMonitor& Make(Millis startup_timeout = Millis(0)) {
    HealthMonitorOptions o;
    o.stall_timeout = Millis(10000);
    o.startup_timeout = startup_timeout;
    o.group_id = "g";
    o.bootstrap_servers = "kafka:9092";
    monitor_ = std::make_unique<HealthMonitor>(
        o, clock_, &kafka_, &stats_, std::vector<Dispatcher*>{&dispatcher_},
        [this](const HealthStatus& s) { changes_.push_back(s); });
    return *monitor_;
  }

  // The dispatcher is asked about on every check.
  void ExpectDispatcherChecks() {
    EXPECT_CALL(dispatcher_, index()).Times(::testing::AnyNumber());
    EXPECT_CALL(dispatcher_, failure()).Times(::testing::AnyNumber());
    EXPECT_CALL(dispatcher_, last_progress()).Times(::testing::AnyNumber());
  }

  FakeClock clock_;
  FakeKafka kafka_;
  FakeStats stats_;
  StrictMock<MockDispatcher> dispatcher_;
  std::unique_ptr<HealthMonitor> monitor_;
  std::vector<HealthStatus> changes_;
};

TEST_F(HealthMonitorTest, NotReadyBeforeTheFirstCheck) {
  HealthMonitor& m = Make();
  EXPECT_FALSE(m.Current().ready);
  EXPECT_TRUE(m.Current().live);
}

TEST_F(HealthMonitorTest, ConnectedAndJoinedIsLiveAndReady) {
  ExpectDispatcherChecks();
  HealthMonitor& m = Make();
  HealthStatus s = m.Check();
  EXPECT_TRUE(s.live);
  EXPECT_TRUE(s.ready);
  EXPECT_THAT(s.checks, Contains(Check("kafka", true)));
  EXPECT_THAT(s.checks, Contains(Check("group", true)));
  EXPECT_THAT(s.checks, Contains(Check("dispatcher-0", true)));
  ASSERT_EQ(changes_.size(), 1u);
  m.Check();
  EXPECT_EQ(changes_.size(), 1u) << "no change, no callback";
}

TEST_F(HealthMonitorTest, BrokerDownIsNotReadyAtOnceAndNotLiveAfterTheStallTimeout) {
  ExpectDispatcherChecks();
  HealthMonitor& m = Make();
  m.Check();
  kafka_.connectivity.any_broker_up = false;
  kafka_.connectivity.group_joined = false;
  clock_.Advance(Millis(1000));
  HealthStatus s = m.Check();
  EXPECT_FALSE(s.ready);
  EXPECT_TRUE(s.live);
  EXPECT_THAT(s.checks, Contains(Check("kafka", false)));
  ASSERT_EQ(changes_.size(), 2u);
  EXPECT_FALSE(changes_.back().ready);

  clock_.Advance(Millis(9000));  // 10 s since the broker was last up
  s = m.Check();
  EXPECT_FALSE(s.live);
  EXPECT_EQ(changes_.size(), 3u);

  kafka_.connectivity.any_broker_up = true;
  kafka_.connectivity.last_up = clock_.Now();
  s = m.Check();
  EXPECT_TRUE(s.live);
  EXPECT_FALSE(s.ready) << "group not joined yet";
  kafka_.connectivity.group_joined = true;
  s = m.Check();
  EXPECT_TRUE(s.ready);
  EXPECT_TRUE(changes_.back().ready);
}

TEST_F(HealthMonitorTest, NeverConnectedCountsFromStart) {
  ExpectDispatcherChecks();
  kafka_.connectivity = BrokerConnectivity{};
  kafka_.connectivity.last_error = "SASL authentication error: invalid credentials";
  HealthMonitor& m = Make();
  HealthStatus s = m.Check();
  EXPECT_TRUE(s.live);
  EXPECT_FALSE(s.ready);
  EXPECT_THAT(s.checks, Contains(AllOf(Check("kafka", false),
                                       Field(&HealthCheck::detail, HasSubstr("invalid credentials")))));
  clock_.Advance(Millis(10000));
  EXPECT_FALSE(m.Check().live);
}

TEST_F(HealthMonitorTest, NoBrokerWithinTheStartupTimeoutIsAStartupFailure) {
  ExpectDispatcherChecks();
  kafka_.connectivity = BrokerConnectivity{};
  kafka_.connectivity.last_error = "Failed to resolve 'kafka:9092'";
  HealthMonitor& m = Make(Millis(30000));
  m.Check();
  clock_.Advance(Millis(29999));
  m.Check();
  EXPECT_EQ(m.StartupFailure(), std::nullopt);
  clock_.Advance(Millis(1));
  m.Check();
  EXPECT_EQ(m.StartupFailure(),
            "no Kafka broker reached at kafka:9092 in 30 s since start "
            "(kafka.startup_timeout_ms); last error: Failed to resolve 'kafka:9092'");
  // Kept, even if a broker answers before the owner acts on it.
  kafka_.connectivity.any_broker_up = true;
  kafka_.connectivity.last_up = clock_.Now();
  m.Check();
  EXPECT_TRUE(m.StartupFailure().has_value());
}

TEST_F(HealthMonitorTest, AnOutageAfterStartOrATimeoutOfZeroIsNoStartupFailure) {
  ExpectDispatcherChecks();
  HealthMonitor& connected = Make(Millis(30000));
  connected.Check();  // connected at start
  kafka_.connectivity.any_broker_up = false;
  clock_.Advance(Millis(600000));
  connected.Check();
  EXPECT_EQ(connected.StartupFailure(), std::nullopt) << "liveness handles a later outage";

  kafka_.connectivity = BrokerConnectivity{};
  HealthMonitor& never = Make(Millis(0));
  clock_.Advance(Millis(600000));
  never.Check();
  EXPECT_EQ(never.StartupFailure(), std::nullopt) << "0 waits for ever";
}

TEST_F(HealthMonitorTest, FailedDispatcherIsRestarted) {
  EXPECT_CALL(dispatcher_, index()).Times(::testing::AnyNumber());
  EXPECT_CALL(dispatcher_, last_progress()).Times(::testing::AnyNumber());
  EXPECT_CALL(dispatcher_, failure())
      .WillOnce(Return(std::optional<std::string>("boom")))
      .WillRepeatedly(Return(std::nullopt));
  EXPECT_CALL(dispatcher_, Restart()).WillOnce(Return(absl::OkStatus()));
  HealthMonitor& m = Make();
  HealthStatus s = m.Check();
  EXPECT_TRUE(s.live);
  EXPECT_TRUE(s.ready);
  EXPECT_THAT(s.checks, Contains(AllOf(Check("dispatcher-0", true),
                                       Field(&HealthCheck::detail, HasSubstr("boom")))));
  EXPECT_EQ(m.dispatcher_restarts(), 1u);
  m.Check();
  EXPECT_EQ(m.dispatcher_restarts(), 1u);
}

TEST_F(HealthMonitorTest, DispatcherThatCannotRestartFailsLivenessAndReadiness) {
  EXPECT_CALL(dispatcher_, index()).Times(::testing::AnyNumber());
  EXPECT_CALL(dispatcher_, last_progress()).Times(::testing::AnyNumber());
  EXPECT_CALL(dispatcher_, failure()).WillRepeatedly(Return(std::optional<std::string>("boom")));
  EXPECT_CALL(dispatcher_, Restart()).WillRepeatedly(Return(absl::InternalError("no")));
  HealthMonitor& m = Make();
  HealthStatus s = m.Check();
  EXPECT_FALSE(s.live);
  EXPECT_FALSE(s.ready);
}

TEST_F(HealthMonitorTest, HungDispatcherFailsLiveness) {
  ExpectDispatcherChecks();
  const MonoTime stuck_at = clock_.Now();
  ON_CALL(dispatcher_, last_progress()).WillByDefault(Return(stuck_at));
  HealthMonitor& m = Make();
  clock_.Advance(Millis(9999));
  EXPECT_TRUE(m.Check().live);
  clock_.Advance(Millis(1));
  HealthStatus s = m.Check();
  EXPECT_FALSE(s.live);
  EXPECT_THAT(s.checks, Contains(AllOf(Check("dispatcher-0", false),
                                       Field(&HealthCheck::detail, HasSubstr("hung")))));
}

TEST_F(HealthMonitorTest, PartitionWithLagAndNoDeliveriesIsReportedStalled) {
  ExpectDispatcherChecks();
  v1::PartitionStats* p = stats_.AddPartition("orders", 3);
  p->set_lag(50);
  p->set_delivered(10);
  HealthMonitor& m = Make();
  m.Check();
  clock_.Advance(Millis(9999));
  EXPECT_THAT(m.Check().checks, Not(Contains(NamedCheck("stalled:orders/3"))));
  clock_.Advance(Millis(1));
  HealthStatus s = m.Check();
  EXPECT_THAT(s.checks, Contains(AllOf(Check("stalled:orders/3", false),
                                       Field(&HealthCheck::detail, HasSubstr("lag 50")))));
  EXPECT_TRUE(s.live) << "a stall is reported, not acted on";
  EXPECT_TRUE(s.ready);

  p->set_delivered(11);  // moving again
  EXPECT_THAT(m.Check().checks, Not(Contains(NamedCheck("stalled:orders/3"))));
}

TEST_F(HealthMonitorTest, PausedOrCaughtUpPartitionsAreNotStalled) {
  ExpectDispatcherChecks();
  v1::PartitionStats* paused = stats_.AddPartition("orders", 0);
  paused->set_lag(50);
  paused->set_paused(true);
  v1::PartitionStats* caught_up = stats_.AddPartition("orders", 1);
  caught_up->set_lag(0);
  HealthMonitor& m = Make();
  m.Check();
  clock_.Advance(Millis(60000));
  HealthStatus s = m.Check();
  EXPECT_THAT(s.checks, Not(Contains(NamedCheck("stalled:orders/0"))));
  EXPECT_THAT(s.checks, Not(Contains(NamedCheck("stalled:orders/1"))));
}

TEST_F(HealthMonitorTest, PartitionPausedByARefusedDeadLetterIsNotReadyButLive) {
  ExpectDispatcherChecks();
  v1::PartitionStats* p = stats_.AddPartition("orders", 2);
  p->set_paused(true);
  p->set_pause_cause(v1::PAUSE_CAUSE_DEAD_LETTER);
  p->set_pause_reason("dead letter refused: Message size too large (offset 7)");
  v1::PartitionStats* by_request = stats_.AddPartition("orders", 3);
  by_request->set_paused(true);
  by_request->set_pause_cause(v1::PAUSE_CAUSE_REQUEST);
  HealthMonitor& m = Make();
  HealthStatus s = m.Check();
  EXPECT_TRUE(s.live) << "a restart cannot fix the dead-letter topic";
  EXPECT_FALSE(s.ready);
  EXPECT_THAT(s.checks, Contains(AllOf(Check("dead-letter:orders/2", false),
                                       Field(&HealthCheck::detail, HasSubstr("too large")))));
  EXPECT_THAT(s.checks, Not(Contains(NamedCheck("dead-letter:orders/3"))));

  // The produce went through: ready again.
  p->set_paused(false);
  p->set_pause_cause(v1::PAUSE_CAUSE_UNSPECIFIED);
  s = m.Check();
  EXPECT_TRUE(s.ready);
  EXPECT_THAT(s.checks, Not(Contains(NamedCheck("dead-letter:orders/2"))));
}

}  // namespace
}  // namespace kafka_sidecar
