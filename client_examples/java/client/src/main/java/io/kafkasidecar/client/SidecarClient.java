package io.kafkasidecar.client;

import io.grpc.Channel;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.kafkasidecar.v1.ConsumerSidecarGrpc;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * Runs a {@link Handler} against the sidecar until the sidecar drains,
 * {@link #stop()} is called or the process gets SIGTERM/SIGINT.
 *
 * <ul>
 *   <li>Partitions are processed concurrently, each one in offset order.
 *   <li>{@code true} = ACK, {@code false} = RETRY, {@link RejectException} =
 *       REJECT, {@link RetryException} = RETRY after its delay, any other
 *       exception = RETRY with its text as the reason.
 *   <li>After a RETRY the rest of the batch follows the sidecar's ordering
 *       (from Subscribed): under partition ordering it is left unhandled and
 *       unsettled, as the sidecar rewinds and redelivers it; under none it is
 *       handled and settled message by message.
 *   <li>One Settle per batch, once its messages were handled.
 *   <li>When the stream drops, the work of that stream is abandoned (the
 *       sidecar redelivers what was not settled) and the client reconnects
 *       with exponential backoff and jitter.
 *   <li>On {@code Draining} and on {@link #stop()} the client settles every
 *       batch it holds, closes the stream and {@link #run()} returns.
 * </ul>
 */
public final class SidecarClient implements AutoCloseable {
  public enum Result { DRAINED, STOPPED }

  private static final Logger log = Logger.getLogger(SidecarClient.class.getName());

  private final ManagedChannel ownedChannel; // null when the caller owns it
  private final ConsumerSidecarGrpc.ConsumerSidecarStub stub;
  private final Handler handler;
  private final ClientOptions options;
  private final ClientStats stats = new ClientStats();
  private final AtomicInteger streamsOpened = new AtomicInteger();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final CountDownLatch ended = new CountDownLatch(1);

  private final Object lock = new Object();
  private ConsumeStream current; // guarded by lock

  /**
   * Connects to SIDECAR_ADDRESS (default 127.0.0.1:50051) as HANDLER_NAME
   * (default {@value ClientOptions#DEFAULT_HANDLER_NAME}).
   */
  public SidecarClient(Handler handler) {
    this(handler, ClientOptions.fromEnvironment());
  }

  /** Connects to SIDECAR_ADDRESS (default 127.0.0.1:50051). */
  public SidecarClient(Handler handler, ClientOptions options) {
    this(Env.target(System.getenv()), handler, options);
  }

  /** @param target "host:port" or "unix:/path" */
  public SidecarClient(String target, Handler handler, ClientOptions options) {
    this(Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build(),
        true, handler, options);
  }

  /** On a channel the caller owns (and closes). */
  public SidecarClient(Channel channel, Handler handler, ClientOptions options) {
    this(channel, false, handler, options);
  }

  private SidecarClient(Channel channel, boolean owned, Handler handler, ClientOptions options) {
    this.ownedChannel = owned ? (ManagedChannel) channel : null;
    this.stub = ConsumerSidecarGrpc.newStub(channel);
    this.handler = handler;
    this.options = options;
  }

  /**
   * Blocks until the sidecar drains, stop() is called or, with signal
   * handling on, SIGTERM/SIGINT arrives; held batches are settled first.
   */
  public Result run() throws InterruptedException {
    SignalStop.Stoppable self = new SignalStop.Stoppable() {
      @Override
      public void stop() {
        SidecarClient.this.stop();
      }

      @Override
      public void awaitEnd() throws InterruptedException {
        // Bounded: the stream's close is bounded by the stop timeout plus a
        // grace period, the workers' join by theirs.
        ended.await(options.stopTimeout().toSeconds() + 60, TimeUnit.SECONDS);
      }
    };
    try (SignalStop.Registration signals =
        options.handleSignals() ? SignalStop.register(self) : null) {
      return runStreams();
    } finally {
      ended.countDown();
    }
  }

  private Result runStreams() throws InterruptedException {
    long backoffMs = options.backoffInitial().toMillis();
    while (true) {
      ConsumeStream stream;
      synchronized (lock) {
        if (stopped.getCount() == 0) return Result.STOPPED;
        stream = current = new ConsumeStream(handler, options, stats);
        streamsOpened.incrementAndGet();
      }
      ConsumeStream.Result result = stream.run(stub);
      synchronized (lock) {
        current = null;
      }
      if (result == ConsumeStream.Result.DRAINED) return Result.DRAINED;
      if (result == ConsumeStream.Result.STOPPED) return Result.STOPPED;
      if (stream.subscribed()) backoffMs = options.backoffInitial().toMillis();
      // +-20% jitter so many handlers do not reconnect in lockstep.
      long delayMs = (long) (backoffMs * ThreadLocalRandom.current().nextDouble(0.8, 1.2));
      log.info("reconnecting in " + delayMs + " ms");
      if (stopped.await(delayMs, TimeUnit.MILLISECONDS)) return Result.STOPPED;
      backoffMs = Math.min(backoffMs * 2, options.backoffMax().toMillis());
    }
  }

  /** Stop taking work, settle what is held, end run(). Any thread. */
  public void stop() {
    ConsumeStream stream;
    synchronized (lock) {
      stopped.countDown();
      stream = current;
    }
    if (stream != null) stream.finish(ConsumeStream.Result.STOPPED, options.stopTimeout().toMillis());
  }

  /** Whether the current stream has ended (tests wait on it). */
  boolean currentStreamEnded() {
    synchronized (lock) {
      return current != null && current.ended();
    }
  }

  public ClientStats stats() {
    return stats;
  }

  /** Streams opened so far, reconnects included. */
  public int streamsOpened() {
    return streamsOpened.get();
  }

  @Override
  public void close() throws InterruptedException {
    if (ownedChannel != null) {
      ownedChannel.shutdown();
      if (!ownedChannel.awaitTermination(5, TimeUnit.SECONDS)) ownedChannel.shutdownNow();
    }
  }
}
