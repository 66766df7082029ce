import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import io.kafkasidecar.client.RejectException;
import io.kafkasidecar.client.SidecarClient;
import java.nio.charset.StandardCharsets;

public class Main {
  private static final Gson JSON = new GsonBuilder().setStrictness(Strictness.STRICT).create();

  public static void main(String[] args) throws Exception {
    // Connects to SIDECAR_ADDRESS as HANDLER_NAME; on SIGTERM it settles what
    // it holds and run() returns.
    try (SidecarClient client = new SidecarClient(message -> {
      byte[] value = message.value().orElseThrow(() -> new RejectException("tombstone"));
      JsonElement doc;
      try {
        doc = JSON.fromJson(new String(value, StandardCharsets.UTF_8), JsonElement.class);
      } catch (JsonParseException e) {
        throw new RejectException("not JSON: " + e.getMessage()); // dead-lettered
      }
      if (doc == null) throw new RejectException("empty value");
      return true; // ACK
    })) {
      client.run();
    }
  }
}
