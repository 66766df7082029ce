package io.kafkasidecar.client;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.kafkasidecar.v1.Batch;
import io.kafkasidecar.v1.ConsumeRequest;
import io.kafkasidecar.v1.ConsumeResponse;
import io.kafkasidecar.v1.ConsumerSidecarGrpc;
import io.kafkasidecar.v1.Ordering;
import io.kafkasidecar.v1.PartitionPaused;
import io.kafkasidecar.v1.Subscribe;
import io.kafkasidecar.v1.Subscribed;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One Consume stream and its partition workers. Each partition has a
 * single-threaded executor, so one partition's batches run in the order the
 * sidecar sent them while different partitions run concurrently.
 */
final class ConsumeStream implements ClientResponseObserver<ConsumeRequest, ConsumeResponse> {
  enum Result { DRAINED, STOPPED, DROPPED }

  private static final Logger log = Logger.getLogger(ConsumeStream.class.getName());
  // How long a worker may take to notice an abandoned stream before run()
  // gives up waiting for it.
  private static final long WORKER_JOIN_SECONDS = 30;

  private final Handler handler;
  private final ClientOptions options;
  private final ClientStats stats;
  private final Outstanding outstanding = new Outstanding();
  private final Extender extender = new Extender();
  private final Map<String, ExecutorService> workers = new ConcurrentHashMap<>();
  private final CountDownLatch ended = new CountDownLatch(1);
  // finish() may be called before run() opened the call; closing waits for it.
  private final CountDownLatch started = new CountDownLatch(1);

  private final Object lock = new Object();
  private ClientCallStreamObserver<ConsumeRequest> requests; // guarded by lock
  private boolean writesClosed; // guarded by lock
  private Result finishing; // guarded by lock; null while running

  // Set once the stream is gone: its batch ids mean nothing to a new stream
  // and the sidecar redelivers what was not settled, so workers stop early.
  private volatile boolean abandoned;
  private volatile Subscribed subscribed;

  ConsumeStream(Handler handler, ClientOptions options, ClientStats stats) {
    this.handler = handler;
    this.options = options;
    this.stats = stats;
  }

  /** Blocks until the stream ends. */
  Result run(ConsumerSidecarGrpc.ConsumerSidecarStub stub) throws InterruptedException {
    stub.consume(this);
    send(ConsumeRequest.newBuilder()
        .setSubscribe(Subscribe.newBuilder()
            .setHandlerName(options.handlerName())
            .addAllTopics(options.topics())
            .setMaxInFlightMessages(options.maxInFlightMessages())
            .setMaxBatchMessages(options.maxBatchMessages()))
        .build());
    started.countDown();
    try {
      ended.await();
    } finally {
      abandoned = true;
      extender.stop();
      closeWrites();
      for (ExecutorService w : workers.values()) w.shutdown();
      for (ExecutorService w : workers.values()) {
        if (!w.awaitTermination(WORKER_JOIN_SECONDS, TimeUnit.SECONDS)) {
          log.warning("a partition worker is still busy in the handler; leaving it");
          w.shutdownNow();
        }
      }
    }
    synchronized (lock) {
      return finishing != null ? finishing : Result.DROPPED;
    }
  }

  boolean ended() {
    return ended.getCount() == 0;
  }

  boolean subscribed() {
    return subscribed != null;
  }

  /** Settles what is held (up to timeoutMs), then closes the stream. Any thread. */
  void finish(Result reason, long timeoutMs) {
    synchronized (lock) {
      if (finishing != null) return;
      finishing = reason;
    }
    Thread t = new Thread(() -> finishNow(timeoutMs), "sidecar-finish");
    t.setDaemon(true);
    t.start();
  }

  private void finishNow(long timeoutMs) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    try {
      started.await(timeoutMs, TimeUnit.MILLISECONDS);
      if (!outstanding.awaitZero(deadline)) {
        log.warning("closing the stream with batches still unsettled after " + timeoutMs + " ms");
      }
      closeWrites();
      // The sidecar ends the stream once the handler half-closes; a grace
      // period, then cancel, so a stuck peer cannot keep us forever.
      long leftMs = Math.max(1000, (deadline - System.nanoTime()) / 1_000_000) + 5000;
      if (!ended.await(leftMs, TimeUnit.MILLISECONDS)) cancel("sidecar did not close the stream");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      cancel("interrupted while finishing");
    }
  }

  void send(ConsumeRequest request) {
    synchronized (lock) {
      if (writesClosed || requests == null) return;
      try {
        requests.onNext(request);
      } catch (IllegalStateException e) {
        // The call ended under us; the settlement is moot (redelivered).
        writesClosed = true;
      }
    }
  }

  private void closeWrites() {
    synchronized (lock) {
      if (writesClosed || requests == null) return;
      writesClosed = true;
      try {
        requests.onCompleted();
      } catch (IllegalStateException e) {
        // Already cancelled: nothing left to close.
      }
    }
  }

  private void cancel(String why) {
    synchronized (lock) {
      writesClosed = true;
      if (requests != null) requests.cancel(why, null);
    }
  }

  // ---- gRPC callbacks: serialized by gRPC, never concurrent with each other.

  @Override
  public void beforeStart(ClientCallStreamObserver<ConsumeRequest> requestStream) {
    synchronized (lock) {
      requests = requestStream;
    }
  }

  @Override
  public void onNext(ConsumeResponse response) {
    switch (response.getResponseCase()) {
      case BATCH -> dispatch(response.getBatch());
      case SUBSCRIBED -> {
        subscribed = response.getSubscribed();
        // ack_timeout_ms is a uint32: read it unsigned.
        extender.start(subscribed.getAckTimeoutMs() & 0xFFFFFFFFL, this::send);
        log.info("subscribed: stream " + subscribed.getStreamId() + ", group "
            + subscribed.getGroupId() + ", topics " + subscribed.getTopicsList()
            + ", ordering " + subscribed.getOrdering());
      }
      case ASSIGNMENT -> log.info("assignment: +" + response.getAssignment().getAssignedCount()
          + " -" + response.getAssignment().getRevokedCount() + " partitions");
      case DRAINING -> {
        long deadlineMs = response.getDraining().getDeadlineMs();
        log.info("sidecar draining, " + deadlineMs + " ms to settle");
        // Leave a margin so the settlements land before the deadline.
        finish(Result.DRAINED, deadlineMs > 0 ? deadlineMs * 8 / 10 : 5000);
      }
      case PAUSED -> log.warning(pausedLine(response.getPaused()));
      // A newer sidecar's kinds: nothing this client must act on.
      default -> log.fine("ignoring response " + response.getResponseCase());
    }
  }

  // The sidecar stopped delivering a partition on its error threshold; the
  // handler sees no other sign of it, so it goes to the log.
  static String pausedLine(PartitionPaused p) {
    return "kafka-sidecar paused " + p.getPartition().getTopic() + "/"
        + p.getPartition().getPartition() + " for " + Integer.toUnsignedString(p.getResumeInMs())
        + " ms: " + p.getReason();
  }

  @Override
  public void onError(Throwable t) {
    synchronized (lock) {
      writesClosed = true;
      if (finishing == null) {
        Status s = Status.fromThrowable(t);
        log.warning("stream dropped: " + s.getCode() + " " + s.getDescription());
      }
    }
    endStream();
  }

  @Override
  public void onCompleted() {
    synchronized (lock) {
      if (finishing == null) log.warning("stream ended by the sidecar");
    }
    endStream();
  }

  // Abandoned before ended: a worker that sees the stream ended must already
  // see it abandoned, or it would handle the rest of a dead stream's batch.
  private void endStream() {
    abandoned = true;
    ended.countDown();
  }

  private void dispatch(Batch batch) {
    synchronized (lock) {
      // Draining: keep working until writes close. Stopped: take no new
      // work, the sidecar gets it back when the stream closes.
      if (writesClosed || finishing == Result.STOPPED) return;
      outstanding.add();
    }
    extender.held(batch.getBatchId());
    String key = batch.getTopic() + "/" + batch.getPartition();
    ExecutorService worker = workers.computeIfAbsent(key, k -> Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "partition-" + k);
      t.setDaemon(true);
      return t;
    }));
    boolean stopAtRetry = stopsAtRetry(subscribed);
    worker.execute(() -> process(batch, stopAtRetry));
  }

  /**
   * Handles a batch's messages in offset order and settles them in one
   * Settle. Under partition ordering it stops at the first RETRY: the
   * sidecar rewinds the partition to that message and delivers the rest
   * again, so handling them now would be wasted work and their settlements
   * stale. Under ordering none each message stands alone.
   */
  private void process(Batch batch, boolean stopAtRetry) {
    try {
      List<Decision> decisions = new ArrayList<>(batch.getMessagesCount());
      for (io.kafkasidecar.v1.Message m : batch.getMessagesList()) {
        if (abandoned) return;
        Decision d = Decision.decide(handler, toMessage(batch, m));
        decisions.add(d);
        if (stopAtRetry && d.isRetry()) break;
      }
      if (!abandoned && !decisions.isEmpty()) {
        // Counted before the send: whoever sees the Settle may read stats.
        stats.add(decisions);
        send(Settlements.request(batch.getBatchId(), batch.getMessagesCount(), decisions));
      }
    } catch (RuntimeException e) {
      // decide() catches the handler's exceptions; this is a bug here, and
      // the batch is left to the sidecar's ack timeout.
      log.log(Level.SEVERE, "batch " + batch.getBatchId() + " failed", e);
    } finally {
      extender.released(batch.getBatchId());
      outstanding.done();
    }
  }

  // UNSPECIFIED is an older sidecar, which always rewinds.
  private static boolean stopsAtRetry(Subscribed s) {
    return s == null || s.getOrdering() != Ordering.ORDERING_NONE;
  }

  private static Message toMessage(Batch batch, io.kafkasidecar.v1.Message m) {
    List<Message.Header> headers = new ArrayList<>(m.getHeadersCount());
    for (io.kafkasidecar.v1.Header h : m.getHeadersList()) {
      headers.add(new Message.Header(h.getKey(),
          h.hasValue() ? Optional.of(h.getValue().toByteArray()) : Optional.empty()));
    }
    return new Message(
        batch.getTopic(),
        batch.getPartition(),
        m.getOffset(),
        // Absent on the wire = null; present and empty = empty.
        m.hasKey() ? m.getKey().toByteArray() : null,
        m.hasValue() ? m.getValue().toByteArray() : null,
        headers,
        m.getTimestampMs(),
        m.getDeliveryAttempt());
  }
}
