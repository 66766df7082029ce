// Prometheus text format 0.0.4 writer: escaping, HELP/TYPE once per family,
// counter naming and cumulative histogram buckets.
#include "sidecar/metrics/prometheus_text.h"

#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_split.h"

namespace kafka_sidecar {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TEST(PrometheusTextTest, EscapesBackslashQuoteAndNewlineInLabelValues) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue(R"(a\b)"), R"(a\\b)");
  EXPECT_EQ(EscapeLabelValue(R"(say "hi")"), R"(say \"hi\")");
  EXPECT_EQ(EscapeLabelValue("two\nlines"), R"(two\nlines)");

  MetricFamily f{"x", "help", MetricType::kGauge, {{{{"topic", "a\"b\\c\nd"}}, 1}}, {}};
  EXPECT_THAT(Lines(RenderPrometheusText({f})),
              ElementsAre("# HELP x help", "# TYPE x gauge", R"(x{topic="a\"b\\c\nd"} 1)"));
}

TEST(PrometheusTextTest, EscapesHelpText) {
  MetricFamily f{"x", "a \\ b\nc \"quoted\"", MetricType::kGauge, {}, {}};
  // In HELP only backslash and newline are escaped; quotes stay.
  EXPECT_THAT(Lines(RenderPrometheusText({f})),
              ElementsAre(R"(# HELP x a \\ b\nc "quoted")", "# TYPE x gauge"));
}

TEST(PrometheusTextTest, HelpAndTypeOncePerFamilyBeforeItsSamples) {
  MetricFamily a{"a", "A.", MetricType::kGauge, {{{{"p", "0"}}, 1}, {{{"p", "1"}}, 2}}, {}};
  MetricFamily b{"b_total", "B.", MetricType::kCounter, {{{}, 3}}, {}};
  EXPECT_THAT(Lines(RenderPrometheusText({a, b})),
              ElementsAre("# HELP a A.", "# TYPE a gauge", R"(a{p="0"} 1)", R"(a{p="1"} 2)",
                          "# HELP b_total B.", "# TYPE b_total counter", "b_total 3"));
}

TEST(PrometheusTextTest, CounterNamesEndInTotal) {
  MetricFamily c{"requests", "R.", MetricType::kCounter, {{{}, 7}}, {}};
  EXPECT_THAT(Lines(RenderPrometheusText({c})),
              ElementsAre("# HELP requests_total R.", "# TYPE requests_total counter",
                          "requests_total 7"));
}

TEST(PrometheusTextTest, HistogramBucketsAreCumulativeWithInfEqualToCount) {
  HistogramSample h;
  h.labels = {{"topic", "t"}};
  h.upper_bounds = {0.001, 0.5, 1};
  h.counts = {2, 0, 3, 4};  // the last: above 1 s
  h.sum = 12.25;
  MetricFamily f{"lat_seconds", "L.", MetricType::kHistogram, {}, {h}};
  EXPECT_THAT(Lines(RenderPrometheusText({f})),
              ElementsAre("# HELP lat_seconds L.", "# TYPE lat_seconds histogram",
                          R"(lat_seconds_bucket{topic="t",le="0.001"} 2)",
                          R"(lat_seconds_bucket{topic="t",le="0.5"} 2)",
                          R"(lat_seconds_bucket{topic="t",le="1"} 5)",
                          R"(lat_seconds_bucket{topic="t",le="+Inf"} 9)",
                          R"(lat_seconds_sum{topic="t"} 12.25)",
                          R"(lat_seconds_count{topic="t"} 9)"));
}

TEST(PrometheusTextTest, EmptyHistogramHasZeroBuckets) {
  HistogramSample h;
  h.upper_bounds = {1, 2};
  MetricFamily f{"h", "H.", MetricType::kHistogram, {}, {h}};
  EXPECT_THAT(Lines(RenderPrometheusText({f})),
              ElementsAre("# HELP h H.", "# TYPE h histogram", R"(h_bucket{le="1"} 0)",
                          R"(h_bucket{le="2"} 0)", R"(h_bucket{le="+Inf"} 0)", "h_sum 0",
                          "h_count 0"));
}

TEST(PrometheusTextTest, ValuesPrintExactlyAndSpecialsAsPrometheusSpellsThem) {
  EXPECT_EQ(FormatPrometheusValue(0), "0");
  EXPECT_EQ(FormatPrometheusValue(300), "300");
  EXPECT_EQ(FormatPrometheusValue(-1), "-1");
  EXPECT_EQ(FormatPrometheusValue(123456789012345.0), "123456789012345");
  EXPECT_EQ(FormatPrometheusValue(0.1), "0.1");
  EXPECT_EQ(FormatPrometheusValue(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(FormatPrometheusValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatPrometheusValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatPrometheusValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(PrometheusTextTest, OutputEndsWithNewline) {
  MetricFamily f{"x", "X.", MetricType::kGauge, {{{}, 1}}, {}};
  const std::string text = RenderPrometheusText({f});
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace kafka_sidecar
