#include "sidecar/kafka/rdkafka_conf.h"

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar {

void ConfSetter::Set(const std::string& key, const std::string& value,
                     const std::string& config_key) {
  if (!status_.ok()) return;
  char err[512];
  if (rd_kafka_conf_set(conf_, key.c_str(), value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    status_ = absl::InvalidArgumentError(absl::StrCat(config_key, ": ", err));
  }
}

void LogToSpdlog(const rd_kafka_t*, int level, const char* facility, const char* message) {
  // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug.
  const auto lvl = level <= 3   ? spdlog::level::err
                   : level == 4 ? spdlog::level::warn
                   : level <= 6 ? spdlog::level::info
                                : spdlog::level::debug;
  spdlog::log(lvl, "librdkafka {}: {}", facility, message);
}

}  // namespace kafka_sidecar
