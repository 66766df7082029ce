package io.kafkasidecar.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's handler is the one the packaging test builds, so they cannot drift. */
class ReadmeTest {
  // Surefire runs in the module's directory, client/.
  private static final Path JAVA_DIR = Path.of("..");

  @Test
  void firstCodeBlockIsTheMinimalHandler() throws Exception {
    String readme = Files.readString(JAVA_DIR.resolve("README.md"));
    String open = "```java\n";
    int start = readme.indexOf("```");
    assertTrue(start >= 0 && readme.startsWith(open, start), "the first code block is not ```java");
    int end = readme.indexOf("\n```", start + open.length());
    assertTrue(end > start, "the first code block is not closed");
    String block = readme.substring(start + open.length(), end + 1);
    String file = Files.readString(
        JAVA_DIR.resolve("packaging/minimal/src/main/java/Main.java"));
    assertEquals(file, block);
  }
}
