#include "sidecar/stats/stats_reporter.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kafka_sidecar {
namespace {

using ::testing::HasSubstr;

TEST(StatsReporterTest, LineCarriesTheHeadlineNumbers) {
  v1::GetStatsResponse s;
  s.set_messages_processed(1200);
  s.set_messages_failed(3);
  s.set_messages_in_flight(40);
  s.set_recent_processing_rate_per_second(99.5);
  s.set_processing_time_p99_ms(12.25);
  for (int i = 0; i < 2; ++i) {
    v1::PartitionStats* p = s.add_partitions();
    p->set_lag(10 + i);
    p->set_paused(i == 1);
  }
  s.add_streams();
  const std::string line = FormatStatsLine(s);
  EXPECT_THAT(line, HasSubstr("processed=1200 failed=3 "));
  EXPECT_THAT(line, HasSubstr("in_flight=40 "));
  EXPECT_THAT(line, HasSubstr("recent_rate=99.5/s"));
  EXPECT_THAT(line, HasSubstr("p99_ms=12.25"));
  EXPECT_THAT(line, HasSubstr("partitions=2 paused=1 lag=21 streams=1 "));
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace kafka_sidecar
