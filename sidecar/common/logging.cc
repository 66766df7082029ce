#include "sidecar/common/logging.h"

#include "absl/strings/str_cat.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar {

absl::Status SetUpLogging(const ObservabilityConfig& config) {
  auto logger = spdlog::stderr_logger_mt("kafka-sidecar");
  const spdlog::level::level_enum level = spdlog::level::from_str(config.log_level);
  if (level == spdlog::level::off && config.log_level != "off") {
    return absl::InvalidArgumentError(
        absl::StrCat("observability.log_level: unknown level '", config.log_level, "'"));
  }
  logger->set_level(level);
  if (config.log_format == "json") {
    logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","thread":%t,"msg":"%v"})");
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%t] %v");
  }
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return absl::OkStatus();
}

}  // namespace kafka_sidecar
