package io.kafkasidecar.client;

import io.kafkasidecar.v1.ConsumeRequest;
import io.kafkasidecar.v1.Extend;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps one stream's slow batches from being redelivered: a batch held for
 * half the sidecar's ack timeout is extended by another full one, leaving
 * the other half for the Extend to arrive. Owned by a single stream, so it
 * never names a batch of another.
 */
final class Extender {
  private static final Logger log = Logger.getLogger(Extender.class.getName());
  private static final long MIN_PERIOD_MS = 20;

  private final HeldBatches held = new HeldBatches();
  private ScheduledExecutorService timer; // guarded by this
  private boolean stopped; // guarded by this

  void held(long batchId) {
    held.add(batchId, System.nanoTime());
  }

  void released(long batchId) {
    held.remove(batchId);
  }

  /**
   * Starts extending once the ack timeout is known; a no-op for 0, when
   * already started or after stop().
   *
   * @param send the stream's serialized send path, which drops requests once
   *     the stream's writes are closed
   */
  synchronized void start(long ackTimeoutMs, Consumer<ConsumeRequest> send) {
    if (ackTimeoutMs <= 0 || timer != null || stopped) return;
    long halfNanos = TimeUnit.MILLISECONDS.toNanos(ackTimeoutMs) / 2;
    long periodMs = Math.max(ackTimeoutMs / 4, MIN_PERIOD_MS);
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "sidecar-extender");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(() -> tick(halfNanos, send), periodMs, periodMs,
        TimeUnit.MILLISECONDS);
  }

  /** Ends the timer; called when the stream ends. */
  synchronized void stop() {
    stopped = true;
    if (timer != null) timer.shutdownNow();
  }

  private void tick(long halfNanos, Consumer<ConsumeRequest> send) {
    try {
      List<Long> ids = held.due(System.nanoTime(), halfNanos);
      if (ids.isEmpty()) return;
      // extend_ms 0 = another ack_timeout_ms from now.
      send.accept(ConsumeRequest.newBuilder()
          .setExtend(Extend.newBuilder().addAllBatchIds(ids))
          .build());
    } catch (RuntimeException e) {
      // A throwing task would silently end the schedule; keep it running.
      log.log(Level.WARNING, "sending Extend failed", e);
    }
  }
}
