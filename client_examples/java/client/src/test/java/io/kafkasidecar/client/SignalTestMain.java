package io.kafkasidecar.client;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * A handler process for SignalStopTest, configured only by the environment
 * like a user's. It reports each message on stdout and holds offset 0 until
 * a line arrives on stdin, so the test can signal it mid-batch.
 */
public final class SignalTestMain {
  private SignalTestMain() {}

  public static void main(String[] args) throws Exception {
    BufferedReader stdin =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try (SidecarClient client = new SidecarClient(m -> {
      System.out.println("handling " + m.offset());
      System.out.flush();
      if (m.offset() == 0) stdin.readLine();
      return true;
    })) {
      System.out.println("result " + client.run());
    }
    // No System.exit: the JVM ends when main returns, which proves the
    // client leaves no thread behind that would keep it alive.
  }
}
