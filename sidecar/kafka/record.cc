#include "sidecar/kafka/record.h"

namespace kafka_sidecar {

Record RecordFromMessage(rd_kafka_message_t* msg) {
  Record r;
  r.offset = msg->offset;
  rd_kafka_timestamp_type_t type;
  r.timestamp_ms = rd_kafka_message_timestamp(msg, &type);
  r.has_key = msg->key != nullptr;
  r.has_value = msg->payload != nullptr;
  if (r.has_key) r.key = std::string_view(static_cast<const char*>(msg->key), msg->key_len);
  if (r.has_value) {
    r.value = std::string_view(static_cast<const char*>(msg->payload), msg->len);
  }
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) r.headers = hdrs;
  r.owner = Record::Owner(msg, [](void* m) {
    rd_kafka_message_destroy(static_cast<rd_kafka_message_t*>(m));
  });
  return r;
}

}  // namespace kafka_sidecar
