// One Kafka record as the dispatcher holds it between fetch and settlement.
// The payload is not copied: key and value point into the librdkafka message
// that `owner` keeps alive until the record is settled or dropped.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include <librdkafka/rdkafka.h>

namespace kafka_sidecar {

struct Record {
  using Owner = std::unique_ptr<void, void (*)(void*)>;

  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  bool has_key = false;
  bool has_value = false;
  std::string_view key;
  std::string_view value;
  // Owned by `owner`; null when the record has no headers.
  rd_kafka_headers_t* headers = nullptr;
  Owner owner{nullptr, [](void*) {}};

  size_t bytes() const { return key.size() + value.size(); }
};

// Wraps a consumed librdkafka message (taking ownership).
Record RecordFromMessage(rd_kafka_message_t* msg);

}  // namespace kafka_sidecar
