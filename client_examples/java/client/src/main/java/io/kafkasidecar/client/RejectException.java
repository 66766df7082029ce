package io.kafkasidecar.client;

/**
 * Thrown by a {@link Handler} for a message that can never succeed (poison):
 * the sidecar gives it up at once (dead-letter topic, if configured) instead
 * of retrying it. The message text is the reason.
 */
public class RejectException extends Exception {
  private static final long serialVersionUID = 1L;

  public RejectException(String reason) {
    super(reason);
  }

  public RejectException(String reason, Throwable cause) {
    super(reason, cause);
  }
}
