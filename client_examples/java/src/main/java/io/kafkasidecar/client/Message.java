package io.kafkasidecar.client;

import java.util.List;

/**
 * One Kafka record as the handler sees it.
 *
 * @param key null for a null key
 * @param value null for a tombstone
 * @param deliveryAttempt 1 on first delivery
 */
public record Message(
    String topic,
    int partition,
    long offset,
    byte[] key,
    byte[] value,
    List<Header> headers,
    long timestampMs,
    int deliveryAttempt) {

  /** @param value null when the header has no value */
  public record Header(String key, byte[] value) {}
}
