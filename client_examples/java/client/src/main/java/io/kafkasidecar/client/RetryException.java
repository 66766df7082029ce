package io.kafkasidecar.client;

import java.time.Duration;

/**
 * Thrown by a {@link Handler} for a failure that may pass (a dependency is
 * down, a lock is held): the sidecar delivers the message again, after
 * {@code retryAfter} or, when that is zero, after its own configured backoff.
 * The message text is the reason.
 *
 * <pre>{@code throw new RetryException("inventory service unavailable", Duration.ofMillis(500));}</pre>
 */
public class RetryException extends Exception {
  private static final long serialVersionUID = 1L;
  // Settlement.retry_after_ms is a uint32.
  private static final long MAX_MS = 0xFFFFFFFFL;

  private final long retryAfterMs;

  /** Retry after the sidecar's configured backoff. */
  public RetryException(String reason) {
    this(reason, Duration.ZERO);
  }

  /** @param retryAfter how long the sidecar waits before delivering it again; ZERO = its backoff */
  public RetryException(String reason, Duration retryAfter) {
    this(reason, retryAfter, null);
  }

  public RetryException(String reason, Duration retryAfter, Throwable cause) {
    super(reason, cause);
    if (retryAfter.isNegative()) {
      throw new IllegalArgumentException("negative retry delay: " + retryAfter);
    }
    // Compared first: toMillis() overflows for a Duration of centuries.
    this.retryAfterMs = retryAfter.compareTo(Duration.ofMillis(MAX_MS)) > 0
        ? MAX_MS : retryAfter.toMillis();
  }

  public Duration retryAfter() {
    return Duration.ofMillis(retryAfterMs);
  }

  long retryAfterMs() {
    return retryAfterMs;
  }
}
