package io.kafkasidecar.client;

import static io.kafkasidecar.client.FakeSidecar.batch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.kafkasidecar.v1.Ordering;
import io.kafkasidecar.v1.Outcome;
import io.kafkasidecar.v1.Settle;
import io.kafkasidecar.v1.Settlement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What a RETRY means for the rest of its batch, as Subscribed.ordering says. */
@Timeout(60)
class OrderingTest {
  private static Settlement entry(List<Long> offsets, Outcome outcome, String reason, int afterMs) {
    return Settlement.newBuilder().setBatchId(1).addAllOffsets(offsets).setOutcome(outcome)
        .setReason(reason).setRetryAfterMs(afterMs).build();
  }

  // Offset 1 is rejected, 2 and 4 fail for now.
  private static boolean handle(Message m, List<Long> seen) throws Exception {
    seen.add(m.offset());
    if (m.offset() == 1) throw new RejectException("bad");
    if (m.offset() == 2) throw new RetryException("db down", Duration.ofMillis(50));
    if (m.offset() == 4) throw new RetryException("db down", Duration.ofMillis(50));
    return true;
  }

  /** UNSPECIFIED is what an older sidecar, which always rewinds, sends. */
  @ParameterizedTest
  @EnumSource(value = Ordering.class, names = {"ORDERING_PARTITION", "ORDERING_UNSPECIFIED"})
  void partitionOrderingStopsAtTheFirstRetryAndLeavesTheRestUnsettled(Ordering ordering)
      throws Exception {
    List<Long> seen = new CopyOnWriteArrayList<>();
    try (FakeSidecar sidecar = new FakeSidecar(ordering);
        RunningClient running = new RunningClient(sidecar, m -> handle(m, seen))) {
      FakeSidecar.Conn conn = sidecar.nextConnection();
      conn.sendBatch(batch(1, "t", 0, 0, 6));
      Settle s = conn.nextSettle();
      assertEquals(List.of(
          entry(List.of(0L), Outcome.OUTCOME_ACK, "", 0),
          entry(List.of(1L), Outcome.OUTCOME_REJECT, "bad", 0),
          entry(List.of(2L), Outcome.OUTCOME_RETRY, "db down", 50)), s.getSettlementsList());
      assertEquals(List.of(0L, 1L, 2L), seen, "handled after the RETRY");
      ClientStats stats = running.client.stats();
      assertEquals(1, stats.processed());
      assertEquals(1, stats.failed());
      assertEquals(1, stats.retried(), "the unsettled rest counted as retried");
      assertNull(conn.settles.poll(), "one Settle per batch");
    }
  }

  @Test
  void noOrderingHandlesAndSettlesEveryMessageOnItsOwn() throws Exception {
    List<Long> seen = new CopyOnWriteArrayList<>();
    try (FakeSidecar sidecar = new FakeSidecar(Ordering.ORDERING_NONE);
        RunningClient running = new RunningClient(sidecar, m -> handle(m, seen))) {
      FakeSidecar.Conn conn = sidecar.nextConnection();
      conn.sendBatch(batch(1, "t", 0, 0, 6));
      Settle s = conn.nextSettle();
      assertEquals(List.of(
          entry(List.of(0L, 3L, 5L), Outcome.OUTCOME_ACK, "", 0),
          entry(List.of(1L), Outcome.OUTCOME_REJECT, "bad", 0),
          entry(List.of(2L, 4L), Outcome.OUTCOME_RETRY, "db down", 50)), s.getSettlementsList());
      assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L), seen);
      ClientStats stats = running.client.stats();
      assertEquals(3, stats.processed());
      assertEquals(1, stats.failed());
      assertEquals(2, stats.retried());
    }
  }

  @Test
  void aBatchWithoutRetriesIsSettledWholeInEitherMode() throws Exception {
    for (Ordering ordering : List.of(Ordering.ORDERING_PARTITION, Ordering.ORDERING_NONE)) {
      try (FakeSidecar sidecar = new FakeSidecar(ordering);
          RunningClient running = new RunningClient(sidecar, m -> true)) {
        FakeSidecar.Conn conn = sidecar.nextConnection();
        conn.sendBatch(batch(1, "t", 0, 0, 4));
        assertEquals(List.of(Settlement.newBuilder().setBatchId(1)
            .setOutcome(Outcome.OUTCOME_ACK).build()), conn.nextSettle().getSettlementsList(),
            ordering.toString());
      }
    }
  }
}
