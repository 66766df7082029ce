package io.kafkasidecar.client;

import static io.kafkasidecar.client.FakeSidecar.batch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.kafkasidecar.v1.Batch;
import io.kafkasidecar.v1.ConsumeResponse;
import io.kafkasidecar.v1.Header;
import io.kafkasidecar.v1.Outcome;
import io.kafkasidecar.v1.Settlement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Responses beyond batches, what reaches the handler, and the environment defaults. */
@Timeout(60)
class ResponsesTest {
  @Test
  void partitionPausedIsLoggedOnceAndUnknownResponsesAreIgnored() throws Exception {
    Logger logger = Logger.getLogger(ConsumeStream.class.getName());
    List<LogRecord> records = new CopyOnWriteArrayList<>();
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord r) {
        records.add(r);
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    logger.addHandler(capture);
    try (FakeSidecar sidecar = new FakeSidecar();
        RunningClient running = new RunningClient(sidecar, m -> true)) {
      FakeSidecar.Conn conn = sidecar.nextConnection();
      // No oneof set: what this client sees of a kind added after it.
      conn.send(ConsumeResponse.getDefaultInstance());
      conn.sendPaused("orders", 2, 30000, "error threshold: 10 errors within 60000 ms");
      conn.sendBatch(batch(1, "orders", 2, 0, 1));
      // Responses are handled in order: the Settle means the pause was seen.
      assertEquals(1, conn.nextSettle().getSettlements(0).getBatchId());
      List<String> paused = records.stream()
          .filter(r -> r.getMessage().contains("paused"))
          .map(r -> r.getLevel() + " " + r.getMessage())
          .toList();
      assertEquals(List.of(Level.WARNING + " kafka-sidecar paused orders/2 for 30000 ms: "
          + "error threshold: 10 errors within 60000 ms"), paused);
      assertFalse(running.client.currentStreamEnded(), "an unknown response ended the stream");
    } finally {
      logger.removeHandler(capture);
    }
  }

  @Test
  void nullAndEmptyKeysAndValuesStayApart() throws Exception {
    List<Message> seen = new CopyOnWriteArrayList<>();
    try (FakeSidecar sidecar = new FakeSidecar();
        RunningClient running = new RunningClient(sidecar, m -> {
          seen.add(m);
          return true;
        })) {
      FakeSidecar.Conn conn = sidecar.nextConnection();
      conn.sendBatch(Batch.newBuilder().setBatchId(1).setTopic("t").setPartition(0)
          // A tombstone with a null key.
          .addMessages(io.kafkasidecar.v1.Message.newBuilder().setOffset(0).setDeliveryAttempt(1))
          // Empty key and value, and a header without a value.
          .addMessages(io.kafkasidecar.v1.Message.newBuilder().setOffset(1).setDeliveryAttempt(1)
              .setKey(ByteString.EMPTY).setValue(ByteString.EMPTY)
              .addHeaders(Header.newBuilder().setKey("h")))
          .build());
      assertEquals(List.of(Settlement.newBuilder().setBatchId(1)
          .setOutcome(Outcome.OUTCOME_ACK).build()), conn.nextSettle().getSettlementsList());
      Message tombstone = seen.get(0);
      assertTrue(tombstone.isTombstone());
      assertTrue(tombstone.value().isEmpty());
      assertFalse(tombstone.hasKey());
      assertTrue(tombstone.key().isEmpty());
      Message empty = seen.get(1);
      assertFalse(empty.isTombstone());
      assertEquals(0, empty.value().orElseThrow().length);
      assertTrue(empty.hasKey());
      assertEquals(0, empty.key().orElseThrow().length);
      assertEquals("h", empty.headers().get(0).key());
      assertTrue(empty.headers().get(0).value().isEmpty());
    }
  }

  @Test
  void addressAndNameComeFromTheEnvironment() {
    assertEquals("127.0.0.1:50051", Env.target(Map.of()));
    assertEquals("127.0.0.1:50051", Env.target(Map.of("SIDECAR_ADDRESS", "")));
    assertEquals("unix:/run/s.sock", Env.target(Map.of("SIDECAR_ADDRESS", "unix:/run/s.sock")));
    assertEquals("java-example", ClientOptions.fromEnvironment(Map.of()).handlerName());
    assertEquals("orders",
        ClientOptions.fromEnvironment(Map.of("HANDLER_NAME", "orders")).handlerName());
    assertTrue(ClientOptions.fromEnvironment(Map.of()).handleSignals(), "signals on by default");
  }
}
