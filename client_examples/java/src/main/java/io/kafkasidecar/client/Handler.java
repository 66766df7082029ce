package io.kafkasidecar.client;

/**
 * The user's code for one message. Called on the partition's own thread:
 * calls for one partition never overlap, calls for different partitions do.
 */
@FunctionalInterface
public interface Handler {
  /**
   * @return true to acknowledge the message, false to have it retried
   * @throws RejectException for a message that can never succeed (dead letter)
   * @throws Exception any other failure: the message is retried, the
   *     exception's text is the reason
   */
  boolean handle(Message message) throws Exception;
}
