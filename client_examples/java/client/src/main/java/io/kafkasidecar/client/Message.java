package io.kafkasidecar.client;

import java.util.List;
import java.util.Optional;

/**
 * One Kafka record as the handler sees it. Kafka tells a null key or value
 * apart from an empty one, and so does this type: {@link #key()} and
 * {@link #value()} are empty Optionals for null, and an Optional of a
 * zero-length array for an empty key or value. A null value is a tombstone.
 */
public final class Message {
  private final String topic;
  private final int partition;
  private final long offset;
  private final byte[] key; // null = null key
  private final byte[] value; // null = tombstone
  private final List<Header> headers;
  private final long timestampMs;
  private final int deliveryAttempt;

  /**
   * @param key null for a null key
   * @param value null for a tombstone
   * @param deliveryAttempt 1 on first delivery
   */
  public Message(String topic, int partition, long offset, byte[] key, byte[] value,
      List<Header> headers, long timestampMs, int deliveryAttempt) {
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.key = key;
    this.value = value;
    this.headers = List.copyOf(headers);
    this.timestampMs = timestampMs;
    this.deliveryAttempt = deliveryAttempt;
  }

  public String topic() {
    return topic;
  }

  public int partition() {
    return partition;
  }

  public long offset() {
    return offset;
  }

  /** Empty for a null key. */
  public Optional<byte[]> key() {
    return Optional.ofNullable(key);
  }

  public boolean hasKey() {
    return key != null;
  }

  /** Empty for a tombstone (null value). */
  public Optional<byte[]> value() {
    return Optional.ofNullable(value);
  }

  /** Whether the value is null (a delete marker on a compacted topic). */
  public boolean isTombstone() {
    return value == null;
  }

  public List<Header> headers() {
    return headers;
  }

  public long timestampMs() {
    return timestampMs;
  }

  /** 1 on first delivery, higher on each redelivery. */
  public int deliveryAttempt() {
    return deliveryAttempt;
  }

  @Override
  public String toString() {
    return topic + "/" + partition + "@" + offset + " (attempt " + deliveryAttempt + ")";
  }

  /** @param value empty when the header has a null value */
  public record Header(String key, Optional<byte[]> value) {}
}
