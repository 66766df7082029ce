package io.kafkasidecar.client;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What this client settled, named as the sidecar's GetStats names it:
 * processed = ACKed, failed = REJECTed, retried = settled RETRY by the
 * handler. Messages left unsettled after a RETRY under partition ordering
 * (the sidecar rewinds and redelivers them) are in none of them, nor is
 * anything of a stream that dropped before its Settle was sent.
 */
public final class ClientStats {
  private final AtomicLong processed = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong retried = new AtomicLong();

  void add(List<Decision> decisions) {
    for (Decision d : decisions) {
      switch (d.outcome()) {
        case OUTCOME_ACK -> processed.incrementAndGet();
        case OUTCOME_REJECT -> failed.incrementAndGet();
        default -> retried.incrementAndGet();
      }
    }
  }

  /** Messages ACKed. */
  public long processed() {
    return processed.get();
  }

  /** Messages REJECTed (dead-lettered by the sidecar, if configured). */
  public long failed() {
    return failed.get();
  }

  /** Messages the handler settled RETRY. */
  public long retried() {
    return retried.get();
  }

  @Override
  public String toString() {
    return "processed=" + processed() + " failed=" + failed() + " retried=" + retried();
  }
}
