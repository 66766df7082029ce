package io.kafkasidecar.client;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Settings of a {@link SidecarClient}. Zero limits take the sidecar's
 * configured defaults.
 *
 * @param handleSignals whether {@link SidecarClient#run()} turns SIGTERM and
 *     SIGINT into {@link SidecarClient#stop()} while it runs
 * @param stopTimeout how long stopping waits for held batches before closing
 *     the stream anyway
 */
public record ClientOptions(
    String handlerName,
    List<String> topics,
    int maxInFlightMessages,
    int maxBatchMessages,
    Duration backoffInitial,
    Duration backoffMax,
    Duration stopTimeout,
    boolean handleSignals) {

  /** The handler name when HANDLER_NAME is not set. */
  public static final String DEFAULT_HANDLER_NAME = "java-example";

  public static ClientOptions defaults(String handlerName) {
    return new ClientOptions(handlerName, List.of(), 0, 0,
        Duration.ofMillis(100), Duration.ofSeconds(10), Duration.ofSeconds(20), true);
  }

  /** Defaults, named by the HANDLER_NAME environment variable (else {@value #DEFAULT_HANDLER_NAME}). */
  public static ClientOptions fromEnvironment() {
    return fromEnvironment(System.getenv());
  }

  static ClientOptions fromEnvironment(Map<String, String> env) {
    return defaults(Env.get(env, "HANDLER_NAME", DEFAULT_HANDLER_NAME));
  }

  public ClientOptions withHandlerName(String handlerName) {
    return new ClientOptions(handlerName, topics, maxInFlightMessages, maxBatchMessages,
        backoffInitial, backoffMax, stopTimeout, handleSignals);
  }

  public ClientOptions withBackoff(Duration initial, Duration max) {
    return new ClientOptions(handlerName, topics, maxInFlightMessages, maxBatchMessages,
        initial, max, stopTimeout, handleSignals);
  }

  public ClientOptions withTopics(List<String> topics) {
    return new ClientOptions(handlerName, List.copyOf(topics), maxInFlightMessages,
        maxBatchMessages, backoffInitial, backoffMax, stopTimeout, handleSignals);
  }

  public ClientOptions withLimits(int maxInFlightMessages, int maxBatchMessages) {
    return new ClientOptions(handlerName, topics, maxInFlightMessages, maxBatchMessages,
        backoffInitial, backoffMax, stopTimeout, handleSignals);
  }

  public ClientOptions withStopTimeout(Duration stopTimeout) {
    return new ClientOptions(handlerName, topics, maxInFlightMessages, maxBatchMessages,
        backoffInitial, backoffMax, stopTimeout, handleSignals);
  }

  /** false: the application owns SIGTERM/SIGINT and calls stop() itself. */
  public ClientOptions withSignalHandling(boolean handleSignals) {
    return new ClientOptions(handlerName, topics, maxInFlightMessages, maxBatchMessages,
        backoffInitial, backoffMax, stopTimeout, handleSignals);
  }
}
