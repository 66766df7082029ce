package io.kafkasidecar.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class HeldBatchesTest {
  private static final long MS = 1_000_000;

  @Test
  void dueReturnsTheOldEnoughInIdOrderAndRestartsTheirClocks() {
    long t0 = 1_000 * MS;
    HeldBatches held = new HeldBatches();
    held.add(7, t0);
    held.add(3, t0 + 40 * MS);
    held.add(9, t0 + 90 * MS);
    assertEquals(List.of(), held.due(t0 + 99 * MS, 100 * MS), "due before the age");
    assertEquals(List.of(3L, 7L), held.due(t0 + 140 * MS, 100 * MS));
    // 3 and 7 restarted at 140 ms; 9 is due at 190 ms.
    assertEquals(List.of(9L), held.due(t0 + 200 * MS, 100 * MS));
    held.remove(3);
    assertEquals(List.of(7L, 9L), held.due(t0 + 300 * MS, 100 * MS), "3 was removed");
  }

  @Test
  void idsAreOrderedAsUnsigned() {
    HeldBatches held = new HeldBatches();
    held.add(-1L, 0); // uint64 max
    held.add(5, 0);
    assertEquals(List.of(5L, -1L), held.due(10 * MS, MS));
  }
}
