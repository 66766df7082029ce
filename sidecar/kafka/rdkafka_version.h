// The librdkafka the sidecar runs on, for --version, GetStats, /stats and
// /metrics: operators need it to match behaviour to librdkafka's changelog.
#pragma once

#include <string>

namespace kafka_sidecar {

// "2.14.2": the linked library's own version (rd_kafka_version_str()).
std::string RdKafkaVersion();

// librdkafka's builtin.features, e.g. "gzip,snappy,ssl,sasl,...,zstd".
std::string RdKafkaFeatures();

}  // namespace kafka_sidecar
