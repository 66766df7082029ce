'use strict';
// The message a handler receives. key and value are Buffers or null: null is
// an absent key or a tombstone, an empty Buffer is a present empty one. The
// proto marks both `optional`, so the two arrive distinguishable.
//
//   { topic, partition, offset, key, value, headers: [{ key, value }],
//     timestampMs, deliveryAttempt }

function orNull(bytes) {
  return bytes === undefined || bytes === null ? null : bytes;
}

function toMessage(batch, m) {
  return {
    topic: batch.topic,
    partition: batch.partition,
    offset: Number(m.offset),
    key: orNull(m.key),
    value: orNull(m.value),
    headers: (m.headers || []).map((h) => ({ key: h.key, value: orNull(h.value) })),
    timestampMs: Number(m.timestamp_ms),
    deliveryAttempt: m.delivery_attempt,
  };
}

module.exports = { toMessage };
