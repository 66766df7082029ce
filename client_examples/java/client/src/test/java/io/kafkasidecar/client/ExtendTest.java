package io.kafkasidecar.client;

import static io.kafkasidecar.client.FakeSidecar.WAIT_SECONDS;
import static io.kafkasidecar.client.FakeSidecar.batch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kafkasidecar.v1.Extend;
import io.kafkasidecar.v1.Outcome;
import io.kafkasidecar.v1.Settle;
import io.kafkasidecar.v1.Settlement;

import java.util.HashSet;
import java.util.Set;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Batches held past half the sidecar's ack timeout are extended. */
@Timeout(60)
class ExtendTest {
  private static final int ACK_TIMEOUT_MS = 200;

  private FakeSidecar sidecar;
  private RunningClient running;
  private SidecarClient client;

  @BeforeEach
  void setUp() throws Exception {
    sidecar = new FakeSidecar(ACK_TIMEOUT_MS);
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

  /** Reads Extends until each of want was named; returns every id named on the way. */
  private static Set<Long> extendedUntil(FakeSidecar.Conn conn, Set<Long> want)
      throws InterruptedException {
    Set<Long> named = new HashSet<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (!named.containsAll(want)) {
      long leftNanos = deadline - System.nanoTime();
      Extend e = leftNanos > 0 ? conn.extendRequests.poll(leftNanos, TimeUnit.NANOSECONDS) : null;
      if (e == null) {
        throw new AssertionError("no Extend named all of " + want + " on " + conn.id
            + " while they were held; named " + named);
      }
      named.addAll(checked(e));
    }
    return named;
  }

  /** Every Extend the stream received that the test has not read yet. */
  private static Set<Long> remainingExtends(FakeSidecar.Conn conn) {
    Set<Long> named = new HashSet<>();
    for (Extend e; (e = conn.extendRequests.poll()) != null; ) named.addAll(checked(e));
    return named;
  }

  private static Set<Long> checked(Extend e) {
    assertEquals(0, e.getExtendMs(), "extend_ms 0 = another ack_timeout_ms");
    assertTrue(e.getBatchIdsCount() > 0, "an empty Extend was sent");
    return new HashSet<>(e.getBatchIdsList());
  }

  /** Stops the client and waits for the half-close, after which every request it sent was seen. */
  private void stopAndAwaitHalfClose(FakeSidecar.Conn conn) throws Exception {
    client.stop();
    assertTrue(conn.awaitHalfClose(), "the stream was not half-closed");
    assertEquals(SidecarClient.Result.STOPPED, running.result());
  }

  @Test
  void extendsTheHeldBatchAndTheOneQueuedBehindItUntilTheyAreSettled() throws Exception {
    CountDownLatch extended = new CountDownLatch(1);
    start(m -> {
      // Held until the test saw the Extend: far past the 200 ms ack timeout.
      if (!extended.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
        throw new IllegalStateException("no Extend seen");
      }
      return true;
    });
    FakeSidecar.Conn conn = sidecar.nextConnection();
    conn.sendBatch(batch(42, "t", 0, 0, 1));
    // Queued behind batch 42 on the same partition: its sidecar deadline runs as well.
    conn.sendBatch(batch(43, "t", 0, 1, 1));
    Set<Long> named = extendedUntil(conn, Set.of(42L, 43L));
    extended.countDown();

    Set<Long> settled = new HashSet<>();
    for (int i = 0; i < 2; i++) {
      Settle s = conn.nextSettle();
      assertEquals(1, s.getSettlementsCount());
      Settlement st = s.getSettlements(0);
      assertEquals(Outcome.OUTCOME_ACK, st.getOutcome(), "batch " + st.getBatchId());
      settled.add(st.getBatchId());
    }
    assertEquals(Set.of(42L, 43L), settled);
    assertEquals(2, client.stats().processed());

    stopAndAwaitHalfClose(conn);
    named.addAll(remainingExtends(conn));
    assertEquals(Set.of(42L, 43L), named, "Extends named batches that were not held");
  }

  @Test
  void extendNeverNamesABatchOfAnEarlierStream() throws Exception {
    CountDownLatch releaseOld = new CountDownLatch(1);
    CountDownLatch extended = new CountDownLatch(1);
    start(m -> {
      CountDownLatch wait = m.offset() == 100 ? releaseOld : extended;
      if (!wait.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
        throw new IllegalStateException("not released");
      }
      return true;
    });
    FakeSidecar.Conn first = sidecar.nextConnection();
    first.sendBatch(batch(1, "t", 0, 100, 1));
    // The first stream's extender is running and holds batch 1 when it drops.
    extendedUntil(first, Set.of(1L));
    first.drop();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (!client.currentStreamEnded()) {
      if (System.nanoTime() > deadline) throw new AssertionError("the client did not see the drop");
      Thread.sleep(5); // polls the condition; the deadline bounds it
    }
    releaseOld.countDown();

    FakeSidecar.Conn second = sidecar.nextConnection();
    second.sendBatch(batch(2, "t", 0, 0, 1));
    Set<Long> named = extendedUntil(second, Set.of(2L));
    extended.countDown();
    assertEquals(2, second.nextSettle().getSettlements(0).getBatchId());
    stopAndAwaitHalfClose(second);
    named.addAll(remainingExtends(second));
    assertEquals(Set.of(2L), named, "the new stream was sent an Extend for the dropped one's batch");
  }
}
