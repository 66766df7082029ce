package io.kafkasidecar.client;

/**
 * The user's code for one message. Called on the partition's own thread:
 * calls for one partition never overlap, calls for different partitions do.
 */
@FunctionalInterface
public interface Handler {
  /**
   * @return true to acknowledge the message (ACK), false to have it retried
   *     after the sidecar's backoff (RETRY)
   * @throws RejectException for a message that can never succeed: REJECT,
   *     dead-lettered, never retried
   * @throws RetryException for a failure that may pass: RETRY, after the
   *     delay it carries
   * @throws Exception any other failure: RETRY after the sidecar's backoff,
   *     the exception's text is the reason
   */
  boolean handle(Message message) throws Exception;
}
