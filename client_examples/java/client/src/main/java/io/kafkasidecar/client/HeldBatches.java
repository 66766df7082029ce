package io.kafkasidecar.client;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One stream's batches handed to partition workers and not yet settled or
 * abandoned, each with when it was sent or last extended. A batch queued
 * behind a slow one of its partition counts: its sidecar deadline runs from
 * when the sidecar sent it.
 */
final class HeldBatches {
  private final Map<Long, Long> sinceNanos = new HashMap<>(); // guarded by this

  synchronized void add(long batchId, long nowNanos) {
    sinceNanos.put(batchId, nowNanos);
  }

  synchronized void remove(long batchId) {
    sinceNanos.remove(batchId);
  }

  /** The batches held for at least ageNanos, in id order; their clocks restart at nowNanos. */
  synchronized List<Long> due(long nowNanos, long ageNanos) {
    List<Long> ids = new ArrayList<>();
    for (Map.Entry<Long, Long> e : sinceNanos.entrySet()) {
      if (nowNanos - e.getValue() >= ageNanos) {
        ids.add(e.getKey());
        e.setValue(nowNanos);
      }
    }
    ids.sort(Long::compareUnsigned);
    return ids;
  }
}
