package io.kafkasidecar.client;

import static io.kafkasidecar.client.FakeSidecar.WAIT_SECONDS;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A SidecarClient running on a FakeSidecar in a background thread. */
final class RunningClient implements AutoCloseable {
  final SidecarClient client;
  private final CompletableFuture<SidecarClient.Result> running;

  RunningClient(FakeSidecar sidecar, Handler handler) {
    ClientOptions options = ClientOptions.defaults("java-test")
        .withBackoff(Duration.ofMillis(10), Duration.ofMillis(100))
        .withStopTimeout(Duration.ofSeconds(WAIT_SECONDS))
        // The test JVM's signals stay its own; SignalStopTest covers them.
        .withSignalHandling(false);
    client = new SidecarClient(sidecar.channel, handler, options);
    running = CompletableFuture.supplyAsync(() -> {
      try {
        return client.run();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  SidecarClient.Result result() throws Exception {
    return running.get(WAIT_SECONDS * 3, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws Exception {
    client.stop();
    result();
  }
}
