package io.kafkasidecar.example;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.kafkasidecar.client.Handler;
import io.kafkasidecar.client.Message;
import io.kafkasidecar.client.RejectException;
import io.kafkasidecar.client.RetryException;
import io.kafkasidecar.client.SidecarClient;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.logging.Logger;
import java.util.zip.CRC32;

/**
 * Example kafka-sidecar handler: decodes each message as UTF-8 JSON,
 * "processes" it (sums its numeric fields into a running digest) and rejects
 * what does not parse, so the sidecar dead-letters it with the parse error as
 * the reason. An object with {@code "fail_once": true} stands for a flaky
 * dependency: its first delivery is retried after 50 ms, later ones succeed.
 *
 * <p>Environment (read by the helper): SIDECAR_ADDRESS (gRPC target, default
 * 127.0.0.1:50051; "unix:/path" for a Unix socket), HANDLER_NAME (default
 * java-example).
 *
 * <p>Runs until the sidecar drains or SIGTERM/SIGINT, then settles what it
 * holds and exits 0.
 */
public final class ExampleHandler implements Handler {
  private static final Logger log = Logger.getLogger(ExampleHandler.class.getName());
  private static final long REPORT_EVERY_NANOS = 5_000_000_000L;
  static final Duration FAIL_ONCE_RETRY_AFTER = Duration.ofMillis(50);

  private final Object lock = new Object();
  private double total; // guarded by lock
  private long count; // guarded by lock
  private final CRC32 digest = new CRC32(); // guarded by lock
  private long lastReport = System.nanoTime(); // guarded by lock

  @Override
  public boolean handle(Message message) throws RejectException, RetryException {
    if (message.isTombstone()) throw new RejectException("tombstone: no value to process");
    JsonObject doc = parse(message.value().get());
    if (message.deliveryAttempt() <= 1 && isTrue(doc.get("fail_once"))) {
      throw new RetryException("transient failure (fail_once)", FAIL_ONCE_RETRY_AFTER);
    }
    double amount = 0;
    for (Map.Entry<String, JsonElement> field : doc.entrySet()) {
      JsonElement v = field.getValue();
      if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber()) amount += v.getAsDouble();
    }
    // Partitions run on different threads.
    synchronized (lock) {
      total += amount;
      count++;
      digest.update((message.partition() + ":" + message.offset() + ":" + amount + ";")
          .getBytes(StandardCharsets.UTF_8));
      long now = System.nanoTime();
      if (now - lastReport >= REPORT_EVERY_NANOS) {
        lastReport = now;
        log.info(String.format("processed %d messages, sum %.0f, digest %08x",
            count, total, digest.getValue()));
      }
    }
    return true;
  }

  /** Strict UTF-8 and strict JSON: anything else is poison, not a retry. */
  static JsonObject parse(byte[] value) throws RejectException {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(value))
          .toString();
    } catch (CharacterCodingException e) {
      throw new RejectException("not UTF-8: " + e);
    }
    try {
      JsonReader reader = new JsonReader(new StringReader(text));
      reader.setStrictness(Strictness.STRICT);
      JsonElement doc = JsonParser.parseReader(reader);
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw new RejectException("not JSON: trailing data after the document");
      }
      if (!doc.isJsonObject()) {
        throw new RejectException("expected a JSON object, got " + doc);
      }
      return doc.getAsJsonObject();
    } catch (JsonParseException | IOException | IllegalStateException e) {
      throw new RejectException("not JSON: " + e.getMessage());
    }
  }

  private static boolean isTrue(JsonElement e) {
    return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean() && e.getAsBoolean();
  }

  long count() {
    synchronized (lock) {
      return count;
    }
  }

  public static void main(String[] args) throws InterruptedException {
    System.setProperty("java.util.logging.SimpleFormatter.format",
        "%1$tFT%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
    ExampleHandler handler = new ExampleHandler();
    // SIDECAR_ADDRESS and HANDLER_NAME come from the environment; SIGTERM
    // and SIGINT make run() settle what it holds and return.
    try (SidecarClient client = new SidecarClient(handler)) {
      SidecarClient.Result result = client.run();
      log.info(String.format("exiting (%s) after %d messages; %s",
          result, handler.count(), client.stats()));
    }
  }
}
