// The dispatch queue librdkafka feeds (KafkaConsumerImpl's DispatchQueue)
// against the mock cluster: a Wake() must end the next wait however the
// queue is read. The queue first takes what is there without waiting; that
// call can use up the yield Wake() leaves on the librdkafka queue, and a
// wait after it that did not know would sleep through a settlement (this
// once halved throughput). Bounds here are generous: they tell "returned on
// the wake" from "waited out a 10 s timeout", not speed.
#include <chrono>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "sidecar/common/clock.h"
#include "sidecar/config/config.h"
#include "sidecar/kafka/kafka_consumer_impl.h"
#include "sidecar/stats/sidecar_stats.h"
#include "tests/support/mock_cluster.h"

namespace kafka_sidecar::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class DispatchQueueWakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<MockCluster>> cluster = MockCluster::Create(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    Config config;
    config.kafka.bootstrap_servers = cluster_->bootstrap();
    config.kafka.group_id = "wake-test";
    config.kafka.topics = {"wake"};
    absl::StatusOr<std::unique_ptr<KafkaConsumerImpl>> consumer =
        KafkaConsumerImpl::Create(config, 1, &stats_);
    ASSERT_TRUE(consumer.ok()) << consumer.status();
    consumer_ = std::move(*consumer);
    ASSERT_EQ(consumer_->queues().size(), 1u);
    queue_ = consumer_->queues()[0];
  }

  // How long Consume(10 s) took on the empty queue.
  milliseconds TimedConsume() {
    std::vector<FetchedRecord> out;
    const auto start = steady_clock::now();
    const bool idle = queue_->Consume(milliseconds(10000), 16, &out);
    EXPECT_TRUE(idle) << "nothing was queued";
    EXPECT_TRUE(out.empty());
    return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  }

  RealClock clock_;
  SidecarStats stats_{clock_};
  std::unique_ptr<MockCluster> cluster_;
  std::unique_ptr<KafkaConsumerImpl> consumer_;
  DispatchQueue* queue_ = nullptr;
};

TEST_F(DispatchQueueWakeTest, AWakeBeforeTheCallEndsItsWait) {
  queue_->Wake();
  EXPECT_LT(TimedConsume(), milliseconds(5000)) << "the wake was lost";
}

TEST_F(DispatchQueueWakeTest, EveryWakeEndsOneWait) {
  for (int i = 0; i < 20; ++i) {
    queue_->Wake();
    ASSERT_LT(TimedConsume(), milliseconds(5000)) << "wake " << i << " was lost";
  }
}

TEST_F(DispatchQueueWakeTest, WithoutAWakeTheCallWaitsForItsTimeout) {
  std::vector<FetchedRecord> out;
  const auto start = steady_clock::now();
  EXPECT_TRUE(queue_->Consume(milliseconds(300), 16, &out));
  EXPECT_GE(steady_clock::now() - start, milliseconds(250));
}

}  // namespace
}  // namespace kafka_sidecar::testing
