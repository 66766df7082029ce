// Prometheus text exposition format 0.0.4: families of counters, gauges and
// histograms, rendered with one HELP and one TYPE line each, label values
// escaped, and histogram buckets made cumulative with the `+Inf` bucket equal
// to `_count`.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace kafka_sidecar {

inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kCounter, kGauge, kHistogram };

// Label names are fixed identifiers chosen by the code; values are escaped.
using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  Labels labels;
  double value = 0;
};

struct HistogramSample {
  Labels labels;
  std::vector<double> upper_bounds;  // increasing, finite; +Inf is added
  // Per bucket, not cumulative; one more entry than upper_bounds (the values
  // above the last bound). Missing entries count as zero.
  std::vector<uint64_t> counts;
  double sum = 0;
};

struct MetricFamily {
  // A counter's name gets the `_total` suffix if it lacks it.
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<Sample> samples;              // counters and gauges
  std::vector<HistogramSample> histograms;  // histograms
};

// Families appear in the given order. A family with no samples still gets
// its HELP and TYPE lines (valid, and tells a reader the metric exists).
std::string RenderPrometheusText(const std::vector<MetricFamily>& families);

// Exposed for tests.
std::string EscapeLabelValue(const std::string& value);
std::string FormatPrometheusValue(double value);

}  // namespace kafka_sidecar
