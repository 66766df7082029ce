#include "sidecar/kafka/rdkafka_statistics.h"

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kafka_sidecar {
namespace {

using Json = nlohmann::json;

const Json* Member(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string String(const Json& object, const char* key) {
  const Json* v = Member(object, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : "";
}

// librdkafka writes -1001 (RD_KAFKA_OFFSET_INVALID) for offsets it does not
// know; the sidecar's convention for that is -1.
int64_t Offset(const Json& object, const char* key) {
  const Json* v = Member(object, key);
  if (v == nullptr || !v->is_number_integer()) return -1;
  const auto n = v->get<int64_t>();
  return n < 0 ? -1 : n;
}

bool Bool(const Json& object, const char* key) {
  const Json* v = Member(object, key);
  return v != nullptr && v->is_boolean() && v->get<bool>();
}

}  // namespace

absl::StatusOr<RdKafkaStatistics> ParseRdKafkaStatistics(std::string_view json) {
  // No exceptions: a parse failure is a discarded value.
  const Json root = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return absl::InvalidArgumentError("librdkafka statistics: not a JSON object");
  }
  RdKafkaStatistics out;
  if (const Json* brokers = Member(root, "brokers"); brokers != nullptr && brokers->is_object()) {
    for (const auto& [name, b] : brokers->items()) {
      if (!b.is_object()) continue;
      ++out.brokers;
      if (String(b, "state") == "UP") ++out.brokers_up;
    }
  }
  if (const Json* topics = Member(root, "topics"); topics != nullptr && topics->is_object()) {
    for (const auto& [topic, t] : topics->items()) {
      const Json* partitions = Member(t, "partitions");
      if (partitions == nullptr || !partitions->is_object()) continue;
      for (const auto& [key, p] : partitions->items()) {
        int32_t partition = -1;
        // "-1" is librdkafka's internal unassigned-partition entry.
        if (!p.is_object() || !absl::SimpleAtoi(key, &partition) || partition < 0) continue;
        if (!Bool(p, "desired")) continue;
        PartitionOffsets o;
        o.low_watermark = Offset(p, "lo_offset");
        o.high_watermark = Offset(p, "hi_offset");
        o.committed_offset = Offset(p, "committed_offset");
        out.partitions[TopicPartition{topic, partition}] = o;
      }
    }
  }
  if (const Json* cgrp = Member(root, "cgrp")) {
    out.group_state = String(*cgrp, "state");
    out.join_state = String(*cgrp, "join_state");
  }
  return out;
}

}  // namespace kafka_sidecar
