package io.kafkasidecar.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kafkasidecar.v1.Outcome;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class DecisionTest {
  private static Message message(long offset) {
    return new Message("t", 0, offset, null, new byte[0], List.of(), 0, 1);
  }

  @Test
  void retryExceptionCarriesItsDelayAndReason() {
    Decision d = Decision.decide(m -> {
      throw new RetryException("db down", Duration.ofMillis(250));
    }, message(3));
    assertEquals(new Decision(3, Outcome.OUTCOME_RETRY, "db down", 250), d);
  }

  @Test
  void falseAndOtherExceptionsRetryAfterTheSidecarsBackoff() {
    assertEquals(new Decision(1, Outcome.OUTCOME_RETRY, "handler returned false", 0),
        Decision.decide(m -> false, message(1)));
    assertEquals(new Decision(2, Outcome.OUTCOME_RETRY, "IllegalStateException: boom", 0),
        Decision.decide(m -> {
          throw new IllegalStateException("boom");
        }, message(2)));
  }

  @Test
  void retryDelaysAreClampedToTheWireRange() {
    assertEquals(Duration.ofMillis(0xFFFFFFFFL),
        new RetryException("x", Duration.ofDays(365 * 1000)).retryAfter());
    assertThrows(IllegalArgumentException.class,
        () -> new RetryException("x", Duration.ofMillis(-1)));
  }

  @Test
  void longReasonsAreCut() {
    String huge = "x".repeat(5000);
    Decision d = Decision.decide(m -> {
      throw new RejectException(huge);
    }, message(3));
    assertEquals(Outcome.OUTCOME_REJECT, d.outcome());
    assertEquals(Decision.MAX_REASON, d.reason().length());
  }

  @Test
  void rejectWithoutTextStillHasAReason() {
    Decision d = Decision.decide(m -> {
      throw new RejectException("");
    }, message(3));
    assertEquals("rejected", d.reason());
  }

  @Test
  void aTombstoneReachesTheHandlerAsAnEmptyValue() {
    Message tombstone = new Message("t", 0, 5, null, null, List.of(), 0, 1);
    Decision d = Decision.decide(m -> {
      if (m.isTombstone() && m.value().isEmpty() && !m.hasKey() && m.key().isEmpty()) {
        throw new RejectException("tombstone");
      }
      return true;
    }, tombstone);
    assertEquals(new Decision(5, Outcome.OUTCOME_REJECT, "tombstone"), d);
    Message empty = new Message("t", 0, 6, new byte[0], new byte[0], List.of(), 0, 1);
    assertEquals(false, empty.isTombstone());
    assertEquals(0, empty.value().orElseThrow().length);
    assertEquals(true, empty.hasKey());
  }
}
