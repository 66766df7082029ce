// Scraping the sidecar's HTTP admin endpoint in tests: a plain GET, and
// /metrics parsed by Prometheus' own Python parser (parse_metrics.py in the
// venv scripts/install-deps.sh creates), so a test checks what Prometheus
// would read, sample by sample, never by substring.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kafka_sidecar::testing {

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// One GET on 127.0.0.1:`port`; an error if no HTTP response came.
absl::StatusOr<HttpResponse> HttpGet(int port, const std::string& path,
                                     absl::Duration timeout = absl::Seconds(5));

using MetricLabels = std::map<std::string, std::string>;

struct MetricSample {
  std::string name;  // as exposed: foo_total, foo_bucket, foo_sum, ...
  MetricLabels labels;
  double value = 0;
};

class ParsedMetrics {
 public:
  explicit ParsedMetrics(std::vector<MetricSample> samples)
      : samples_(std::move(samples)) {}

  const std::vector<MetricSample>& samples() const { return samples_; }
  // The sample with exactly these labels, if there is one.
  std::optional<double> Get(const std::string& name,
                            const MetricLabels& labels = {}) const;
  // Every sample of `name`.
  std::vector<MetricSample> All(const std::string& name) const;
  // Sum over every sample of `name`; 0 if there is none.
  double Sum(const std::string& name) const;

 private:
  std::vector<MetricSample> samples_;
};

// Runs parse_metrics.py on `text`; an error with the parser's message if it
// does not parse.
absl::StatusOr<ParsedMetrics> ParsePrometheusText(const std::string& text);

// GET /metrics: fails unless 200 with the 0.0.4 text content type, then
// ParsePrometheusText().
absl::StatusOr<ParsedMetrics> ScrapeMetrics(int port);

}  // namespace kafka_sidecar::testing
