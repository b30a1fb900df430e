package org.promptrecovery4j.core;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the kill-test hooks (never set outside tests) do once they trigger: say so by creating a marker file, then
 * sleep until the test kills the process, so that a test can SIGKILL a writer at a known point.
 */
public final class TestHooks {

  private TestHooks() {}

  /**
   * Creates the file named by the system property {@code markerProperty} (when set) and sleeps until killed;
   * an interrupt ends the wait with an {@link InterruptedIOException} naming {@code why}.
   */
  public static void pauseUntilKilled(String markerProperty, String why) throws IOException {
    String marker = System.getProperty(markerProperty);
    if (marker != null) {
      Files.createFile(Path.of(marker));
    }
    try {
      while (true) {
        Thread.sleep(60_000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException(why + " interrupted while paused by a test hook");
    }
  }
}
