package io.kafkasidecar.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kafkasidecar.client.Message;
import io.kafkasidecar.client.RejectException;
import io.kafkasidecar.client.RetryException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExampleHandlerTest {
  private static Message message(byte[] value, int deliveryAttempt) {
    return new Message("t", 0, 0, null, value, List.of(), 0, deliveryAttempt);
  }

  private static Message message(byte[] value) {
    return message(value, 1);
  }

  private static Message message(String value) {
    return message(value.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void acksValidJson() throws Exception {
    ExampleHandler h = new ExampleHandler();
    assertTrue(h.handle(message("{\"id\": 1, \"amount\": 5, \"name\": \"x\", \"tags\": [\"a\"]}")));
    assertEquals(1, h.count());
  }

  @Test
  void rejectsTruncatedJsonWithTheParseError() {
    RejectException e = assertThrows(RejectException.class,
        () -> new ExampleHandler().handle(message("{\"id\": 499, \"amount\": ")));
    assertTrue(e.getMessage().startsWith("not JSON: "), e.getMessage());
  }

  @Test
  void rejectsWhatLenientParsingWouldAccept() {
    assertThrows(RejectException.class, () -> new ExampleHandler().handle(message("{a: 1}")));
    assertThrows(RejectException.class, () -> new ExampleHandler().handle(message("{} {}")));
    assertThrows(RejectException.class, () -> new ExampleHandler().handle(message("[1, 2]")));
  }

  @Test
  void rejectsInvalidUtf8AndTombstones() {
    assertThrows(RejectException.class,
        () -> new ExampleHandler().handle(message(new byte[] {'{', (byte) 0xff, '}'})));
    assertThrows(RejectException.class, () -> new ExampleHandler().handle(message((byte[]) null)));
  }

  @Test
  void failOnceIsRetriedAfter50msOnFirstDeliveryOnly() throws Exception {
    ExampleHandler h = new ExampleHandler();
    byte[] doc = "{\"id\": 7, \"amount\": 3, \"fail_once\": true}".getBytes(StandardCharsets.UTF_8);
    RetryException e = assertThrows(RetryException.class, () -> h.handle(message(doc, 1)));
    assertEquals("transient failure (fail_once)", e.getMessage());
    assertEquals(Duration.ofMillis(50), e.retryAfter());
    assertEquals(0, h.count(), "a retried message is not counted as processed");
    assertTrue(h.handle(message(doc, 2)));
    assertEquals(1, h.count());
  }

  @Test
  void failOnceMustBeTrueToFail() throws Exception {
    ExampleHandler h = new ExampleHandler();
    assertTrue(h.handle(message("{\"fail_once\": false}")));
    assertTrue(h.handle(message("{\"fail_once\": \"true\"}")));
    assertEquals(2, h.count());
  }

  @Test
  void malformedJsonIsRejectedEvenWithFailOnce() {
    assertThrows(RejectException.class,
        () -> new ExampleHandler().handle(message("{\"fail_once\": true, ")));
  }
}
