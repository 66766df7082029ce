package io.kafkasidecar.client;

import static io.kafkasidecar.client.FakeSidecar.WAIT_SECONDS;
import static io.kafkasidecar.client.FakeSidecar.batch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kafkasidecar.v1.Ordering;
import io.kafkasidecar.v1.Outcome;
import io.kafkasidecar.v1.Settle;
import io.kafkasidecar.v1.Settlement;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class SidecarClientTest {
  private FakeSidecar sidecar;
  private RunningClient running;
  private SidecarClient client;

  @BeforeEach
  void setUp() throws Exception {
    sidecar = new FakeSidecar();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (running != null) running.close();
    sidecar.close();
  }

  private void start(Handler handler) {
    running = new RunningClient(sidecar, handler);
    client = running.client;
  }

  private SidecarClient.Result result() throws Exception {
    return running.result();
  }

  private static void awaitCondition(java.util.function.BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
      Thread.sleep(5);
    }
  }

  private static List<Settle> settles(FakeSidecar.Conn conn, int n) throws InterruptedException {
    List<Settle> out = new ArrayList<>();
    for (int i = 0; i < n; i++) out.add(conn.nextSettle());
    return out;
  }

  @Test
  void subscribesWithItsName() throws Exception {
    start(m -> true);
    assertEquals("java-test", sidecar.nextConnection().handlerName);
  }

  @Test
  void eachPartitionInOrderAndOneSettlePerBatch() throws Exception {
    Map<Integer, List<Long>> seen = new ConcurrentHashMap<>();
    start(m -> {
      seen.computeIfAbsent(m.partition(), p -> new CopyOnWriteArrayList<>()).add(m.offset());
      return true;
    });
    FakeSidecar.Conn conn = sidecar.nextConnection();
    long batchId = 0;
    Set<Long> sent = new HashSet<>();
    for (int round = 0; round < 10; round++) {
      for (int p = 0; p < 3; p++) {
        conn.sendBatch(batch(++batchId, "t", p, round * 20L, 20));
        sent.add(batchId);
      }
    }
    Set<Long> settled = new HashSet<>();
    for (Settle s : settles(conn, sent.size())) {
      assertEquals(1, s.getSettlementsCount(), "one settlement per all-ACK batch");
      Settlement st = s.getSettlements(0);
      assertEquals(Outcome.OUTCOME_ACK, st.getOutcome());
      assertTrue(st.getOffsetsList().isEmpty(), "all-ACK batch settles with empty offsets");
      assertTrue(settled.add(st.getBatchId()), "batch settled twice: " + st.getBatchId());
    }
    assertEquals(sent, settled);
    for (int p = 0; p < 3; p++) {
      List<Long> expected = new ArrayList<>();
      for (long o = 0; o < 200; o++) expected.add(o);
      assertEquals(expected, seen.get(p), "partition " + p + " order");
    }
    assertEquals(600, client.stats().processed());
  }

  @Test
  void partitionsRunConcurrently() throws Exception {
    // Partition 0's handler waits for partition 1's to start: processed one
    // partition at a time, the wait would time out.
    CountDownLatch p1Started = new CountDownLatch(1);
    Map<Integer, Boolean> sawOther = new ConcurrentHashMap<>();
    start(m -> {
      if (m.partition() == 1) {
        p1Started.countDown();
        return true;
      }
      sawOther.put(m.partition(), p1Started.await(WAIT_SECONDS, TimeUnit.SECONDS));
      return true;
    });
    FakeSidecar.Conn conn = sidecar.nextConnection();
    conn.sendBatch(batch(1, "t", 0, 0, 1));
    conn.sendBatch(batch(2, "t", 1, 0, 1));
    settles(conn, 2);
    assertEquals(Boolean.TRUE, sawOther.get(0));
  }

  @Test
  void falseRetriesRejectExceptionRejectsOtherExceptionsRetry() throws Exception {
    // Ordering none: every message of the batch is handled and settled.
    sidecar.close();
    sidecar = new FakeSidecar(Ordering.ORDERING_NONE);
    start(m -> {
      switch ((int) m.offset()) {
        case 1: return false;
        case 2: throw new RejectException("bad payload");
        case 3: throw new IllegalStateException("boom");
        default: return true;
      }
    });
    FakeSidecar.Conn conn = sidecar.nextConnection();
    conn.sendBatch(batch(7, "t", 0, 0, 5));
    Settle s = conn.nextSettle();
    Map<Outcome, List<Settlement>> byOutcome = new HashMap<>();
    for (Settlement st : s.getSettlementsList()) {
      assertEquals(7, st.getBatchId());
      byOutcome.computeIfAbsent(st.getOutcome(), o -> new ArrayList<>()).add(st);
    }
    assertEquals(Outcome.OUTCOME_ACK, s.getSettlements(0).getOutcome(), "ACKs come first");
    assertEquals(List.of(0L, 4L), byOutcome.get(Outcome.OUTCOME_ACK).get(0).getOffsetsList());
    List<Settlement> retries = byOutcome.get(Outcome.OUTCOME_RETRY);
    assertEquals(2, retries.size());
    assertEquals(List.of(1L), retries.get(0).getOffsetsList());
    assertEquals("handler returned false", retries.get(0).getReason());
    assertEquals(List.of(3L), retries.get(1).getOffsetsList());
    assertEquals("IllegalStateException: boom", retries.get(1).getReason());
    Settlement reject = byOutcome.get(Outcome.OUTCOME_REJECT).get(0);
    assertEquals(List.of(2L), reject.getOffsetsList());
    assertEquals("bad payload", reject.getReason());
    assertNull(conn.settles.poll(), "one Settle per batch");
  }

  @Test
  void reconnectsAfterTheStreamDrops() throws Exception {
    CountDownLatch inHandler = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<Long> handled = new CopyOnWriteArrayList<>();
    start(m -> {
      handled.add(m.offset());
      if (m.offset() == 100) {
        inHandler.countDown();
        release.await(WAIT_SECONDS, TimeUnit.SECONDS);
      }
      return true;
    });
    FakeSidecar.Conn first = sidecar.nextConnection();
    // A batch in the handler when the stream drops belongs to the dead
    // stream: the rest of it is skipped and it is settled nowhere (the
    // sidecar redelivers it). The partition's worker finishes the message in
    // hand before the new stream starts, so the partition stays in order.
    first.sendBatch(batch(1, "t", 0, 100, 2));
    assertTrue(inHandler.await(WAIT_SECONDS, TimeUnit.SECONDS));
    first.drop();
    awaitCondition(client::currentStreamEnded, "the client to see the drop");
    release.countDown();
    FakeSidecar.Conn second = sidecar.nextConnection();
    second.sendBatch(batch(2, "t", 0, 0, 2));
    Settle s = second.nextSettle();
    assertEquals(2, s.getSettlements(0).getBatchId());
    assertNull(first.settles.poll());
    assertEquals(List.of(100L, 0L, 1L), handled, "offset 101 of the dropped stream was handled");
    assertTrue(client.streamsOpened() >= 2);
    // Reconnects again after another drop, with the backoff reset by the
    // successful subscribe.
    second.drop();
    FakeSidecar.Conn third = sidecar.nextConnection();
    third.sendBatch(batch(3, "t", 1, 0, 1));
    assertEquals(3, third.nextSettle().getSettlements(0).getBatchId());
  }

  @Test
  void drainingSettlesWhatItHoldsThenHalfClosesAndReturns() throws Exception {
    CountDownLatch inHandler = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    start(m -> {
      if (m.partition() == 0 && m.offset() == 0) {
        inHandler.countDown();
        release.await(WAIT_SECONDS, TimeUnit.SECONDS);
      }
      return true;
    });
    FakeSidecar.Conn conn = sidecar.nextConnection();
    conn.sendBatch(batch(1, "t", 0, 0, 3));
    assertTrue(inHandler.await(WAIT_SECONDS, TimeUnit.SECONDS));
    conn.sendDraining(10_000);
    // While draining, batches already sent are still worked on.
    conn.sendBatch(batch(2, "t", 1, 0, 1));
    assertEquals(2, conn.nextSettle().getSettlements(0).getBatchId());
    assertEquals(1, conn.halfClosed.getCount(), "half-closed while a batch was held");
    release.countDown();
    assertEquals(1, conn.nextSettle().getSettlements(0).getBatchId());
    assertTrue(conn.awaitHalfClose());
    assertEquals(SidecarClient.Result.DRAINED, result());
    assertEquals(4, client.stats().processed());
  }

  @Test
  void stopSettlesHeldBatchesAndTakesNoNewWork() throws Exception {
    CountDownLatch inHandler = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Set<Integer> partitionsSeen = ConcurrentHashMap.newKeySet();
    start(m -> {
      partitionsSeen.add(m.partition());
      if (m.partition() == 0) {
        inHandler.countDown();
        release.await(WAIT_SECONDS, TimeUnit.SECONDS);
      }
      return true;
    });
    FakeSidecar.Conn conn = sidecar.nextConnection();
    conn.sendBatch(batch(1, "t", 0, 0, 2));
    assertTrue(inHandler.await(WAIT_SECONDS, TimeUnit.SECONDS));
    client.stop();
    conn.sendBatch(batch(2, "t", 1, 0, 1));
    release.countDown();
    Settle s = conn.nextSettle();
    assertEquals(1, s.getSettlements(0).getBatchId());
    assertTrue(conn.awaitHalfClose());
    assertEquals(SidecarClient.Result.STOPPED, result());
    assertFalse(partitionsSeen.contains(1), "a batch that arrived after stop() was started");
    assertNull(conn.settles.poll());
  }

  @Test
  void stopWhileDisconnectedReturnsWithoutWaitingForTheBackoff() throws Exception {
    start(m -> true);
    FakeSidecar.Conn conn = sidecar.nextConnection();
    sidecar.close(); // every reconnect now fails
    conn.drop();
    client.stop();
    assertEquals(SidecarClient.Result.STOPPED, result());
  }
}
