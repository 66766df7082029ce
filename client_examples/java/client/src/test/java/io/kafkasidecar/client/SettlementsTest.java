package io.kafkasidecar.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kafkasidecar.v1.Outcome;
import io.kafkasidecar.v1.Settle;
import io.kafkasidecar.v1.Settlement;
import java.util.List;
import org.junit.jupiter.api.Test;

class SettlementsTest {
  private static Settlement entry(long batchId, List<Long> offsets, Outcome outcome, String reason,
      int retryAfterMs) {
    return Settlement.newBuilder().setBatchId(batchId).addAllOffsets(offsets).setOutcome(outcome)
        .setReason(reason).setRetryAfterMs(retryAfterMs).build();
  }

  @Test
  void allAckIsOneSettlementWithoutOffsets() {
    Settle s = Settlements.request(9, 2, List.of(
        new Decision(1, Outcome.OUTCOME_ACK, ""), new Decision(2, Outcome.OUTCOME_ACK, "")))
        .getSettle();
    assertEquals(1, s.getSettlementsCount());
    assertEquals(9, s.getSettlements(0).getBatchId());
    assertTrue(s.getSettlements(0).getOffsetsList().isEmpty());
  }

  @Test
  void ackOfPartOfABatchNamesItsOffsets() {
    // A batch of 3 whose handling stopped after 2: empty offsets would also
    // settle the third.
    Settle s = Settlements.request(9, 3, List.of(
        new Decision(1, Outcome.OUTCOME_ACK, ""), new Decision(2, Outcome.OUTCOME_ACK, "")))
        .getSettle();
    assertEquals(List.of(entry(9, List.of(1L, 2L), Outcome.OUTCOME_ACK, "", 0)),
        s.getSettlementsList());
  }

  @Test
  void groupsByOutcomeReasonAndDelayAcksFirstRetriesLast() {
    Settle s = Settlements.request(4, 7, List.of(
        new Decision(10, Outcome.OUTCOME_RETRY, "slow", 50),
        new Decision(11, Outcome.OUTCOME_ACK, ""),
        new Decision(12, Outcome.OUTCOME_RETRY, "slow", 500),
        new Decision(13, Outcome.OUTCOME_REJECT, "bad"),
        new Decision(14, Outcome.OUTCOME_RETRY, "slow", 50),
        new Decision(15, Outcome.OUTCOME_REJECT, "worse"),
        new Decision(16, Outcome.OUTCOME_REJECT, "bad"))).getSettle();
    assertEquals(List.of(
        entry(4, List.of(11L), Outcome.OUTCOME_ACK, "", 0),
        entry(4, List.of(13L, 16L), Outcome.OUTCOME_REJECT, "bad", 0),
        entry(4, List.of(15L), Outcome.OUTCOME_REJECT, "worse", 0),
        entry(4, List.of(10L, 14L), Outcome.OUTCOME_RETRY, "slow", 50),
        entry(4, List.of(12L), Outcome.OUTCOME_RETRY, "slow", 500)), s.getSettlementsList());
  }
}
