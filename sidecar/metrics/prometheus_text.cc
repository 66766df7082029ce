#include "sidecar/metrics/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace kafka_sidecar {
namespace {

std::string EscapeHelp(const std::string& help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// `extra` goes last, for a histogram's `le`.
void AppendLabels(std::string* out, const Labels& labels, const char* extra_name = nullptr,
                  const std::string& extra_value = "") {
  if (labels.empty() && extra_name == nullptr) return;
  out->push_back('{');
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out->push_back(',');
    first = false;
    absl::StrAppend(out, name, "=\"", EscapeLabelValue(value), "\"");
  }
  if (extra_name != nullptr) {
    if (!first) out->push_back(',');
    absl::StrAppend(out, extra_name, "=\"", EscapeLabelValue(extra_value), "\"");
  }
  out->push_back('}');
}

void AppendLine(std::string* out, const std::string& name, const Labels& labels, double value,
                const char* extra_name = nullptr, const std::string& extra_value = "") {
  out->append(name);
  AppendLabels(out, labels, extra_name, extra_value);
  absl::StrAppend(out, " ", FormatPrometheusValue(value), "\n");
}

}  // namespace

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatPrometheusValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Counts print as integers, exactly, up to 2^53.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  // Shortest text that reads back as the same double.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

std::string RenderPrometheusText(const std::vector<MetricFamily>& families) {
  std::string out;
  for (const MetricFamily& f : families) {
    std::string name = f.name;
    if (f.type == MetricType::kCounter && !absl::EndsWith(name, "_total")) name += "_total";
    absl::StrAppend(&out, "# HELP ", name, " ", EscapeHelp(f.help), "\n");
    absl::StrAppend(&out, "# TYPE ", name, " ", TypeName(f.type), "\n");
    if (f.type != MetricType::kHistogram) {
      for (const Sample& s : f.samples) AppendLine(&out, name, s.labels, s.value);
      continue;
    }
    for (const HistogramSample& h : f.histograms) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h.upper_bounds.size(); ++i) {
        if (i < h.counts.size()) cumulative += h.counts[i];
        AppendLine(&out, name + "_bucket", h.labels, static_cast<double>(cumulative), "le",
                   FormatPrometheusValue(h.upper_bounds[i]));
      }
      // `_count` must equal the `+Inf` bucket, so both come from one sum.
      for (size_t i = h.upper_bounds.size(); i < h.counts.size(); ++i) cumulative += h.counts[i];
      AppendLine(&out, name + "_bucket", h.labels, static_cast<double>(cumulative), "le", "+Inf");
      AppendLine(&out, name + "_sum", h.labels, h.sum);
      AppendLine(&out, name + "_count", h.labels, static_cast<double>(cumulative));
    }
  }
  return out;
}

}  // namespace kafka_sidecar
