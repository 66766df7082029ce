#include "kafka_sidecar_client/partition_scheduler.h"

#include <atomic>
#include <map>
#include <mutex>
#include <vector>

#include "gtest/gtest.h"

namespace kafka_sidecar_client {
namespace {

TEST(PartitionSchedulerTest, EachPartitionRunsInOrderAndDrainRunsEverything) {
  std::mutex mu;
  std::map<int32_t, std::vector<int>> order;
  std::map<int32_t, int> running;
  int overlap = 0;
  {
    PartitionScheduler scheduler(4);
    for (int i = 0; i < 200; ++i) {
      for (int32_t p = 0; p < 5; ++p) {
        scheduler.Submit("t", p, [&, i, p] {
          {
            std::lock_guard<std::mutex> lock(mu);
            if (++running[p] > 1) ++overlap;
            order[p].push_back(i);
          }
          std::lock_guard<std::mutex> lock(mu);
          --running[p];
        });
      }
    }
    scheduler.Drain();
  }
  EXPECT_EQ(overlap, 0);
  for (int32_t p = 0; p < 5; ++p) {
    ASSERT_EQ(order[p].size(), 200u) << "partition " << p;
    for (int i = 0; i < 200; ++i) EXPECT_EQ(order[p][i], i);
  }
}

TEST(PartitionSchedulerTest, SamePartitionNumberOfAnotherTopicIsAnotherLane) {
  std::atomic<int> ran{0};
  PartitionScheduler scheduler(2);
  scheduler.Submit("a", 0, [&] { ++ran; });
  scheduler.Submit("b", 0, [&] { ++ran; });
  scheduler.Drain();
  EXPECT_EQ(ran.load(), 2);
}

TEST(PartitionSchedulerTest, NothingRunsAfterDrain) {
  std::atomic<int> ran{0};
  PartitionScheduler scheduler(1);
  scheduler.Drain();
  scheduler.Submit("t", 0, [&] { ++ran; });
  scheduler.Drain();
  EXPECT_EQ(ran.load(), 0);
}

}  // namespace
}  // namespace kafka_sidecar_client
