#include "sidecar/kafka/rdkafka_version.h"

#include <librdkafka/rdkafka.h>

namespace kafka_sidecar {

// Older releases lose assignments in cooperative rebalances (a commit
// refused with ILLEGAL_GENERATION is taken for a lost assignment), and lack
// the consumer group protocol's production fixes. scripts/install-librdkafka.sh
// builds a release that passes.
static_assert(RD_KAFKA_VERSION >= 0x020d02ff, "kafka-sidecar needs librdkafka 2.13.2 or later");

std::string RdKafkaVersion() { return rd_kafka_version_str(); }

std::string RdKafkaFeatures() {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char value[512];
  size_t size = sizeof(value);
  std::string out;
  if (rd_kafka_conf_get(conf, "builtin.features", value, &size) == RD_KAFKA_CONF_OK) out = value;
  rd_kafka_conf_destroy(conf);
  return out;
}

}  // namespace kafka_sidecar
