// What the sidecar's librdkafka clients (the consumer, the dead-letter
// producer) share when they are configured: property setting whose errors
// name the sidecar config key, and librdkafka's log routed to spdlog.
#pragma once

#include <string>

#include <librdkafka/rdkafka.h>

#include "absl/status/status.h"

namespace kafka_sidecar {

// Sets properties on `conf` until one fails; status() then names the config
// key that carried it, and never quotes the value of a secret property
// (IsSecretProperty).
class ConfSetter {
 public:
  // rd_kafka_conf_set's signature; tests put a fake in its place.
  using SetFunction = rd_kafka_conf_res_t (*)(rd_kafka_conf_t*, const char* name,
                                              const char* value, char* errstr,
                                              size_t errstr_size);

  explicit ConfSetter(rd_kafka_conf_t* conf, SetFunction set = &rd_kafka_conf_set)
      : conf_(conf), set_(set) {}
  void Set(const std::string& key, const std::string& value, const std::string& config_key);
  const absl::Status& status() const { return status_; }

 private:
  std::string SecretRejection(const std::string& key) const;

  rd_kafka_conf_t* const conf_;
  const SetFunction set_;
  absl::Status status_;
};

// For rd_kafka_conf_set_log_cb: syslog levels mapped to spdlog's.
void LogToSpdlog(const rd_kafka_t* rk, int level, const char* facility, const char* message);

}  // namespace kafka_sidecar
