package io.kafkasidecar.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kafkasidecar.v1.ConsumeRequest;
import io.kafkasidecar.v1.Outcome;
import java.util.List;
import org.junit.jupiter.api.Test;

class DecisionTest {
  private static Message message(long offset) {
    return new Message("t", 0, offset, null, new byte[0], List.of(), 0, 1);
  }

  @Test
  void allAckIsOneSettlementWithoutOffsets() {
    ConsumeRequest r = Decision.settleRequest(9, List.of(
        new Decision(1, Outcome.OUTCOME_ACK, ""), new Decision(2, Outcome.OUTCOME_ACK, "")));
    assertEquals(1, r.getSettle().getSettlementsCount());
    assertEquals(9, r.getSettle().getSettlements(0).getBatchId());
    assertTrue(r.getSettle().getSettlements(0).getOffsetsList().isEmpty());
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
}
