package io.kafkasidecar.client;

import java.time.Duration;
import java.util.List;

/**
 * Settings of a {@link SidecarClient}. Zero limits take the sidecar's
 * configured defaults.
 */
public record ClientOptions(
    String handlerName,
    List<String> topics,
    int maxInFlightMessages,
    int maxBatchMessages,
    Duration backoffInitial,
    Duration backoffMax,
    // How long stop() waits for held batches before closing the stream anyway.
    Duration stopTimeout) {

  public static ClientOptions defaults(String handlerName) {
    return new ClientOptions(handlerName, List.of(), 0, 0,
        Duration.ofMillis(100), Duration.ofSeconds(10), Duration.ofSeconds(20));
  }

  public ClientOptions withBackoff(Duration initial, Duration max) {
    return new ClientOptions(handlerName, topics, maxInFlightMessages, maxBatchMessages,
        initial, max, stopTimeout);
  }

  public ClientOptions withTopics(List<String> topics) {
    return new ClientOptions(handlerName, List.copyOf(topics), maxInFlightMessages,
        maxBatchMessages, backoffInitial, backoffMax, stopTimeout);
  }

  public ClientOptions withLimits(int maxInFlightMessages, int maxBatchMessages) {
    return new ClientOptions(handlerName, topics, maxInFlightMessages, maxBatchMessages,
        backoffInitial, backoffMax, stopTimeout);
  }

  public ClientOptions withStopTimeout(Duration stopTimeout) {
    return new ClientOptions(handlerName, topics, maxInFlightMessages, maxBatchMessages,
        backoffInitial, backoffMax, stopTimeout);
  }
}
