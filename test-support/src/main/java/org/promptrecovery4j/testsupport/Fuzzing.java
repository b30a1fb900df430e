package org.promptrecovery4j.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The contract every fuzz harness of a parser of outside files checks: the only acceptable outcomes of
 * reading any input are a loaded result or the project's own named error — an
 * {@link IllegalArgumentException} (the project's {@code ModelFormatException} and
 * {@code TokenizerException} are ones) or an {@link IOException} whose message names the file read.
 * Anything else (a {@link NullPointerException}, an index out of bounds, an {@link OutOfMemoryError}, a
 * {@link StackOverflowError}, an unnamed error) escapes the harness, and the fuzzer records the input.
 *
 * <p>Harnesses are {@code @FuzzTest} methods in classes named {@code *FuzzTest}, one fuzz test a class:
 * {@code mvn verify} runs each on its regression corpus ({@code src/test/resources/<package>/<Class>Inputs/
 * <method>/}) and then fuzzes each for a few seconds in a JVM of its own; {@code tools/fuzz} runs one for
 * longer.
 */
public final class Fuzzing {

  /** A parse whose result is thrown away. */
  @FunctionalInterface
  public interface Parse {
    void run() throws Exception;
  }

  private static Path dir;

  private Fuzzing() {}

  /**
   * Writes {@code data} to a file called {@code name} in this JVM's scratch folder (the same file is
   * overwritten by every input) and returns its path.
   */
  public static synchronized Path file(String name, byte[] data) throws IOException {
    if (dir == null) {
      dir = Files.createTempDirectory("pr4j-fuzz");
      Path d = dir;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(d)));
    }
    Path f = dir.resolve(name);
    Files.createDirectories(f.getParent());
    Files.write(f, data);
    return f;
  }

  /** A fresh empty folder in the scratch folder (for inputs made of several files). */
  public static synchronized Path folder(String name) throws IOException {
    file(".keep", new byte[0]);
    Path f = dir.resolve(name);
    deleteTree(f);
    return Files.createDirectories(f);
  }

  /**
   * Runs {@code parse} on {@code file}: returns if it loads or fails with a named error (see the class
   * comment); rethrows anything else.
   */
  public static void loadedOrNamedError(Path file, Parse parse) throws Exception {
    try {
      parse.run();
    } catch (IllegalArgumentException | IOException | UncheckedIOException e) {
      String message = String.valueOf(e.getMessage());
      String name = file.getFileName().toString();
      if (!message.contains(name)) {
        throw new AssertionError("error does not name the file " + name + ": " + e, e);
      }
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort
    }
  }
}
