#include "sidecar/kafka/rdkafka_statistics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kafka_sidecar {
namespace {

// Trimmed from a librdkafka 2.0 consumer's statistics (STATISTICS.md).
constexpr char kSample[] = R"({
  "name": "kafka-sidecar#consumer-1", "type": "consumer", "ts": 5016483227792,
  "brokers": {
    "127.0.0.1:9092/bootstrap": {"name": "127.0.0.1:9092/bootstrap", "nodeid": -1,
                                 "state": "INIT"},
    "127.0.0.1:9092/1": {"name": "127.0.0.1:9092/1", "nodeid": 1, "state": "UP",
                         "toppars": {"orders-0": {"topic": "orders", "partition": 0}}},
    "GroupCoordinator": {"name": "GroupCoordinator", "nodeid": 1, "state": "UP"}
  },
  "topics": {
    "orders": {"topic": "orders", "age": 1000, "partitions": {
      "0": {"partition": 0, "broker": 1, "leader": 1, "desired": true, "unknown": false,
            "fetch_state": "active", "app_offset": 120, "stored_offset": 120,
            "committed_offset": 100, "lo_offset": 5, "hi_offset": 150, "ls_offset": 150,
            "consumer_lag": 50},
      "1": {"partition": 1, "desired": true, "committed_offset": -1001, "lo_offset": -1001,
            "hi_offset": -1001},
      "2": {"partition": 2, "desired": false, "committed_offset": 7, "hi_offset": 9},
      "-1": {"partition": -1, "desired": false, "hi_offset": -1001}
    }}
  },
  "cgrp": {"state": "up", "stateage": 2000, "join_state": "steady", "rebalance_cnt": 1,
           "assignment_size": 2}
})";

TEST(RdKafkaStatisticsTest, ReadsWatermarksCommittedOffsetsBrokersAndGroup) {
  absl::StatusOr<RdKafkaStatistics> s = ParseRdKafkaStatistics(kSample);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->brokers, 3);
  EXPECT_EQ(s->brokers_up, 2);
  EXPECT_EQ(s->group_state, "up");
  EXPECT_EQ(s->join_state, "steady");
  ASSERT_EQ(s->partitions.size(), 2u) << "only desired (assigned) partitions";
  const PartitionOffsets& p0 = s->partitions.at(TopicPartition{"orders", 0});
  EXPECT_EQ(p0.low_watermark, 5);
  EXPECT_EQ(p0.high_watermark, 150);
  EXPECT_EQ(p0.committed_offset, 100);
  const PartitionOffsets& p1 = s->partitions.at(TopicPartition{"orders", 1});
  EXPECT_EQ(p1.high_watermark, -1) << "librdkafka's -1001 (unknown) reads as -1";
  EXPECT_EQ(p1.committed_offset, -1);
}

TEST(RdKafkaStatisticsTest, BrokenJsonIsAnError) {
  EXPECT_FALSE(ParseRdKafkaStatistics("{\"brokers\": ").ok());
}

TEST(RdKafkaStatisticsTest, MissingSectionsAreEmpty) {
  absl::StatusOr<RdKafkaStatistics> s = ParseRdKafkaStatistics("{}");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->brokers_up, 0);
  EXPECT_TRUE(s->partitions.empty());
  EXPECT_EQ(s->join_state, "");
}

}  // namespace
}  // namespace kafka_sidecar
