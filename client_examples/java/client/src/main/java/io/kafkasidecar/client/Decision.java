package io.kafkasidecar.client;

import io.kafkasidecar.v1.Outcome;

/**
 * The outcome of one message.
 *
 * @param reason empty for ACK
 * @param retryAfterMs RETRY only; 0 = the sidecar's backoff
 */
public record Decision(long offset, Outcome outcome, String reason, long retryAfterMs) {
  // Reasons travel in a dead-letter header and in logs; a stack-trace-sized
  // one helps nobody there.
  static final int MAX_REASON = 1000;

  public Decision(long offset, Outcome outcome, String reason) {
    this(offset, outcome, reason, 0);
  }

  /** Runs the handler on one message and maps its answer to an outcome. */
  public static Decision decide(Handler handler, Message message) {
    try {
      return handler.handle(message)
          ? new Decision(message.offset(), Outcome.OUTCOME_ACK, "")
          : new Decision(message.offset(), Outcome.OUTCOME_RETRY, "handler returned false");
    } catch (RejectException e) {
      return new Decision(message.offset(), Outcome.OUTCOME_REJECT, reasonOf(e, "rejected"));
    } catch (RetryException e) {
      return new Decision(message.offset(), Outcome.OUTCOME_RETRY, reasonOf(e, "retry"),
          e.retryAfterMs());
    } catch (Exception e) {
      // Any other failure may be transient: retry, and say why.
      return new Decision(message.offset(), Outcome.OUTCOME_RETRY,
          truncate(e.getClass().getSimpleName() + ": " + e.getMessage()));
    }
  }

  boolean isRetry() {
    return outcome == Outcome.OUTCOME_RETRY;
  }

  private static String reasonOf(Exception e, String fallback) {
    String m = e.getMessage();
    return m == null || m.isEmpty() ? fallback : truncate(m);
  }

  private static String truncate(String s) {
    return s.length() <= MAX_REASON ? s : s.substring(0, MAX_REASON);
  }
}
