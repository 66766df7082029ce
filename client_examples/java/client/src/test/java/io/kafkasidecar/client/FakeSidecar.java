package io.kafkasidecar.client;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.kafkasidecar.v1.Batch;
import io.kafkasidecar.v1.ConsumeRequest;
import io.kafkasidecar.v1.ConsumeResponse;
import io.kafkasidecar.v1.ConsumerSidecarGrpc;
import io.kafkasidecar.v1.Draining;
import io.kafkasidecar.v1.Extend;
import io.kafkasidecar.v1.Message;
import io.kafkasidecar.v1.Ordering;
import io.kafkasidecar.v1.PartitionPaused;
import io.kafkasidecar.v1.Settle;
import io.kafkasidecar.v1.Subscribed;
import io.kafkasidecar.v1.TopicPartition;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A ConsumerSidecar, in-process or on a local TCP port (for a handler in a
 * child process): each Consume stream becomes a {@link Conn} the test drives
 * by hand (send batches, Draining, drop the stream) and whose requests it
 * reads back. Every Subscribed announces the ordering it was built with.
 */
final class FakeSidecar extends ConsumerSidecarGrpc.ConsumerSidecarImplBase
    implements AutoCloseable {
  static final long WAIT_SECONDS = 10;

  private final Server server;
  private final BlockingQueue<Conn> connections = new LinkedBlockingQueue<>();
  private final AtomicInteger streamIds = new AtomicInteger();
  private final int ackTimeoutMs;
  private final Ordering ordering;
  final ManagedChannel channel;

  /** No ack timeout, ordering UNSPECIFIED (an older sidecar). */
  FakeSidecar() throws IOException {
    this(0, Ordering.ORDERING_UNSPECIFIED, false);
  }

  /** @param ackTimeoutMs sent in every Subscribed */
  FakeSidecar(int ackTimeoutMs) throws IOException {
    this(ackTimeoutMs, Ordering.ORDERING_UNSPECIFIED, false);
  }

  FakeSidecar(Ordering ordering) throws IOException {
    this(0, ordering, false);
  }

  /** @param tcp listen on a free port of 127.0.0.1 instead of in-process */
  FakeSidecar(int ackTimeoutMs, Ordering ordering, boolean tcp) throws IOException {
    this.ackTimeoutMs = ackTimeoutMs;
    this.ordering = ordering;
    if (tcp) {
      server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .addService(this).build().start();
      channel = Grpc.newChannelBuilderForAddress("127.0.0.1", port(),
          InsecureChannelCredentials.create()).build();
    } else {
      String name = InProcessServerBuilder.generateName();
      server = InProcessServerBuilder.forName(name).addService(this).build().start();
      channel = InProcessChannelBuilder.forName(name).build();
    }
  }

  /** The TCP port, for a TCP sidecar. */
  int port() {
    return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  /** The next stream that subscribed. */
  Conn nextConnection() throws InterruptedException {
    return nextConnection(WAIT_SECONDS);
  }

  Conn nextConnection(long waitSeconds) throws InterruptedException {
    Conn c = connections.poll(waitSeconds, TimeUnit.SECONDS);
    if (c == null) throw new AssertionError("no Consume stream within " + waitSeconds + "s");
    return c;
  }

  @Override
  public StreamObserver<ConsumeRequest> consume(StreamObserver<ConsumeResponse> out) {
    Conn conn = new Conn(out, "stream-" + streamIds.incrementAndGet());
    return new StreamObserver<>() {
      @Override
      public void onNext(ConsumeRequest r) {
        if (r.hasSubscribe()) {
          conn.handlerName = r.getSubscribe().getHandlerName();
          conn.send(ConsumeResponse.newBuilder()
              .setSubscribed(Subscribed.newBuilder().setStreamId(conn.id).setGroupId("g")
                  .setAckTimeoutMs(ackTimeoutMs).setOrdering(ordering))
              .build());
          connections.add(conn);
        } else if (r.hasSettle()) {
          conn.settles.add(r.getSettle());
        } else if (r.hasExtend()) {
          conn.extendRequests.add(r.getExtend());
        }
      }

      @Override
      public void onError(Throwable t) {
        conn.closed.countDown();
      }

      @Override
      public void onCompleted() {
        // The handler half-closed: it is done; end the stream as the sidecar does.
        conn.halfClosed.countDown();
        conn.complete();
      }
    };
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    server.shutdownNow();
    server.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  static Batch batch(long batchId, String topic, int partition, long firstOffset, int count) {
    Batch.Builder b = Batch.newBuilder().setBatchId(batchId).setTopic(topic).setPartition(partition);
    for (int i = 0; i < count; i++) {
      b.addMessages(Message.newBuilder()
          .setOffset(firstOffset + i)
          .setValue(com.google.protobuf.ByteString.copyFromUtf8("m" + (firstOffset + i)))
          .setDeliveryAttempt(1));
    }
    return b.build();
  }

  /** One Consume stream, seen from the sidecar's side. */
  static final class Conn {
    final String id;
    final BlockingQueue<Settle> settles = new LinkedBlockingQueue<>();
    final BlockingQueue<Extend> extendRequests = new LinkedBlockingQueue<>();
    final CountDownLatch halfClosed = new CountDownLatch(1);
    final CountDownLatch closed = new CountDownLatch(1);
    volatile String handlerName;
    private final StreamObserver<ConsumeResponse> out;
    private boolean done; // guarded by this

    Conn(StreamObserver<ConsumeResponse> out, String id) {
      this.out = out;
      this.id = id;
    }

    synchronized void send(ConsumeResponse r) {
      if (!done) out.onNext(r);
    }

    void sendBatch(Batch b) {
      send(ConsumeResponse.newBuilder().setBatch(b).build());
    }

    void sendPaused(String topic, int partition, int resumeInMs, String reason) {
      send(ConsumeResponse.newBuilder()
          .setPaused(PartitionPaused.newBuilder()
              .setPartition(TopicPartition.newBuilder().setTopic(topic).setPartition(partition))
              .setResumeInMs(resumeInMs)
              .setReason(reason))
          .build());
    }

    void sendDraining(int deadlineMs) {
      send(ConsumeResponse.newBuilder()
          .setDraining(Draining.newBuilder().setDeadlineMs(deadlineMs))
          .build());
    }

    /** The stream breaks, as when the sidecar restarts. */
    synchronized void drop() {
      if (done) return;
      done = true;
      out.onError(Status.UNAVAILABLE.withDescription("fake sidecar dropped the stream")
          .asRuntimeException());
    }

    synchronized void complete() {
      if (done) return;
      done = true;
      out.onCompleted();
    }

    Settle nextSettle() throws InterruptedException {
      Settle s = settles.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      if (s == null) throw new AssertionError("no Settle on " + id + " within " + WAIT_SECONDS + "s");
      return s;
    }

    boolean awaitHalfClose() throws InterruptedException {
      return halfClosed.await(WAIT_SECONDS, TimeUnit.SECONDS);
    }
  }
}
