#include "sidecar/dispatch/batch_builder.h"

namespace kafka_sidecar {
namespace {

// Protobuf framing per message and header, for sizing the arena.
constexpr size_t kPerMessageOverhead = 96;

void CopyHeaders(rd_kafka_headers_t* headers, v1::Message* out) {
  if (headers == nullptr) return;
  const char* name;
  const void* value;
  size_t size;
  for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                     RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    v1::Header* h = out->add_headers();
    h->set_key(name);
    if (value != nullptr) h->mutable_value()->assign(static_cast<const char*>(value), size);
  }
}

}  // namespace

Outgoing BuildBatch(uint64_t batch_id, const TopicPartition& tp,
                    const std::vector<PendingRecord>& records) {
  size_t bytes = 0;
  for (const PendingRecord& p : records) bytes += p.record.bytes() + kPerMessageOverhead;
  Outgoing out = Outgoing::Make(bytes + tp.topic.size() + 64);
  v1::Batch* batch = out.response->mutable_batch();
  batch->set_batch_id(batch_id);
  batch->set_topic(tp.topic);
  batch->set_partition(tp.partition);
  batch->mutable_messages()->Reserve(static_cast<int>(records.size()));
  for (const PendingRecord& p : records) {
    v1::Message* m = batch->add_messages();
    m->set_offset(p.record.offset);
    if (p.record.has_key) m->mutable_key()->assign(p.record.key.data(), p.record.key.size());
    if (p.record.has_value) m->mutable_value()->assign(p.record.value.data(), p.record.value.size());
    CopyHeaders(p.record.headers, m);
    m->set_timestamp_ms(p.record.timestamp_ms);
    m->set_delivery_attempt(p.attempt);
  }
  return out;
}

}  // namespace kafka_sidecar
