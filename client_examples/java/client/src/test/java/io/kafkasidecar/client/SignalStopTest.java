package io.kafkasidecar.client;

import static io.kafkasidecar.client.FakeSidecar.batch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kafkasidecar.v1.Ordering;
import io.kafkasidecar.v1.Outcome;
import io.kafkasidecar.v1.Settlement;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SIGTERM to a handler process (SignalTestMain) in the middle of a batch:
 * the batch is finished and settled, the stream closed and the process
 * exits 0, without any signal code in the handler.
 */
@Timeout(120)
class SignalStopTest {
  private static final long STARTUP_SECONDS = 60;

  @Test
  void sigtermSettlesWhatIsHeldAndExitsZero() throws Exception {
    try (FakeSidecar sidecar = new FakeSidecar(0, Ordering.ORDERING_PARTITION, true)) {
      ProcessBuilder pb = new ProcessBuilder(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"),
          SignalTestMain.class.getName());
      pb.environment().put("SIDECAR_ADDRESS", "127.0.0.1:" + sidecar.port());
      pb.environment().put("HANDLER_NAME", "signal-test");
      pb.redirectErrorStream(true);
      Process p = pb.start();
      BlockingQueue<String> lines = new LinkedBlockingQueue<>();
      StringBuilder output = new StringBuilder();
      Thread reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(
            new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = r.readLine()) != null; ) {
            synchronized (output) {
              output.append(line).append('\n');
            }
            lines.add(line);
          }
        } catch (java.io.IOException e) {
          // The process is gone; what it wrote is in output.
        }
      });
      reader.setDaemon(true);
      reader.start();
      try {
        FakeSidecar.Conn conn = sidecar.nextConnection(STARTUP_SECONDS);
        assertEquals("signal-test", conn.handlerName, "HANDLER_NAME from the environment");
        conn.sendBatch(batch(1, "t", 0, 0, 2));
        awaitLine(lines, "handling 0", output);
        // SIGTERM; through the handle, as Process.destroy() would also
        // close the pipes the test still reads and writes.
        assertTrue(p.toHandle().destroy());
        awaitLine(lines, "SIGTERM: settling and stopping", output);
        try (OutputStream in = p.getOutputStream()) {
          in.write('\n'); // let offset 0 finish
        }
        assertEquals(List.of(Settlement.newBuilder().setBatchId(1)
            .setOutcome(Outcome.OUTCOME_ACK).build()), conn.nextSettle().getSettlementsList());
        assertTrue(conn.awaitHalfClose(), "stream not closed after SIGTERM");
        assertTrue(p.waitFor(FakeSidecar.WAIT_SECONDS * 3, TimeUnit.SECONDS),
            "still running after SIGTERM:\n" + output);
        assertEquals(0, p.exitValue(), "exit status; output:\n" + output);
        awaitLine(lines, "result STOPPED", output);
      } finally {
        p.destroyForcibly();
      }
    }
  }

  private static void awaitLine(BlockingQueue<String> lines, String part, StringBuilder output)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STARTUP_SECONDS);
    while (true) {
      long left = deadline - System.nanoTime();
      String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
      if (line == null) {
        synchronized (output) {
          throw new AssertionError("no line with \"" + part + "\"; output:\n" + output);
        }
      }
      if (line.contains(part)) return;
    }
  }
}
