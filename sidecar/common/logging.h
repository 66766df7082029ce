// Process logging: spdlog to stderr, as text or JSON lines.
#pragma once

#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "sidecar/config/config.h"
#include "spdlog/formatter.h"

namespace kafka_sidecar {

// Installs the process's default logger per observability.log_level and
// observability.log_format.
absl::Status SetUpLogging(const ObservabilityConfig& config);

// The line format for observability.log_format: "text", or "json" for one
// JSON object per line:
//   {"ts":"2024-05-01T12:00:00.123Z","level":"info","thread":42,"msg":"..."}
// ts is RFC 3339 in UTC with milliseconds; msg is escaped, so quotes,
// backslashes, newlines and bytes that are not UTF-8 in a message (a topic
// name, a librdkafka error) cannot break the line.
std::unique_ptr<spdlog::formatter> MakeLogFormatter(std::string_view log_format);

}  // namespace kafka_sidecar
