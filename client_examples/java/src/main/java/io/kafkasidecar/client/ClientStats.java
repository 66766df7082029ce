package io.kafkasidecar.client;

import io.kafkasidecar.v1.Outcome;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** What this client settled, by outcome; counts only settlements it sent. */
public final class ClientStats {
  private final AtomicLong acked = new AtomicLong();
  private final AtomicLong retried = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();

  void add(List<Decision> decisions) {
    for (Decision d : decisions) {
      if (d.outcome() == Outcome.OUTCOME_ACK) {
        acked.incrementAndGet();
      } else if (d.outcome() == Outcome.OUTCOME_REJECT) {
        rejected.incrementAndGet();
      } else {
        retried.incrementAndGet();
      }
    }
  }

  public long acked() {
    return acked.get();
  }

  public long retried() {
    return retried.get();
  }

  public long rejected() {
    return rejected.get();
  }

  @Override
  public String toString() {
    return "acked=" + acked() + " retried=" + retried() + " rejected=" + rejected();
  }
}
