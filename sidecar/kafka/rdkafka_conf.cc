#include "sidecar/kafka/rdkafka_conf.h"

#include "absl/strings/str_cat.h"
#include "sidecar/config/secrets.h"
#include "spdlog/spdlog.h"

namespace kafka_sidecar {

// librdkafka's message for a refused value may quote the value ("Invalid
// value "..." for configuration property ..."), possibly cut short so that
// no search-and-replace could be sure to catch it. For a secret the same
// property is set to a placeholder on a scratch conf instead: if that fails
// too, its message names the problem without the secret; if it succeeds, the
// value itself was the problem.
std::string ConfSetter::SecretRejection(const std::string& key) const {
  rd_kafka_conf_t* scratch = rd_kafka_conf_new();
  char err[512];
  std::string reason;
  if (set_(scratch, key.c_str(), kRedactedValue, err, sizeof(err)) !=
      RD_KAFKA_CONF_OK) {
    reason = err;
  } else {
    reason = absl::StrCat("librdkafka refused the value (not shown: ", key, " holds a secret)");
  }
  rd_kafka_conf_destroy(scratch);
  return reason;
}

void ConfSetter::Set(const std::string& key, const std::string& value,
                     const std::string& config_key) {
  if (!status_.ok()) return;
  char err[512];
  if (set_(conf_, key.c_str(), value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat(config_key, ": ", IsSecretProperty(key) ? SecretRejection(key) : err));
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
