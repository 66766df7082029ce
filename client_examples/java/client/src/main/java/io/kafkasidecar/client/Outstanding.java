package io.kafkasidecar.client;

/** Batches dispatched to workers and not yet settled or abandoned. */
final class Outstanding {
  private long count;

  synchronized void add() {
    count++;
  }

  synchronized void done() {
    if (--count == 0) notifyAll();
  }

  /** @return true once none is outstanding, false at the deadline */
  synchronized boolean awaitZero(long deadlineNanos) throws InterruptedException {
    while (count > 0) {
      long leftMs = (deadlineNanos - System.nanoTime()) / 1_000_000;
      if (leftMs <= 0) return false;
      wait(leftMs);
    }
    return true;
  }
}
