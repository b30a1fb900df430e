package org.promptrecovery4j.testsupport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a resumable job in a thread until its pause hook (a system property naming when, one naming a marker file)
 * has paused it, then interrupts it: what a kill at that point leaves on disk, in-process. The hook properties are
 * set for the run and cleared after.
 */
public final class PausedRun {

  /** The job: anything that may throw. */
  @FunctionalInterface
  public interface Job {
    void run() throws Exception;
  }

  private PausedRun() {}

  /**
   * Sets {@code hooks}, runs {@code job} until {@code marker} exists (at most 60 s), interrupts it and returns what
   * it threw (an {@link java.io.InterruptedIOException} when it was paused as expected).
   *
   * @throws AssertionError when the job ended or timed out without pausing
   */
  public static Throwable untilPaused(Map<String, String> hooks, Path marker, Job job) throws InterruptedException {
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    hooks.forEach(System::setProperty);
    Thread t = new Thread(() -> {
      try {
        job.run();
      } catch (Throwable e) {
        thrown.set(e);
      }
    });
    try {
      t.start();
      for (int i = 0; i < 6000 && !Files.exists(marker) && t.isAlive(); i++) {
        Thread.sleep(10);
      }
      if (!Files.exists(marker)) {
        throw new AssertionError("the job did not pause (" + thrown.get() + ")", thrown.get());
      }
    } finally {
      hooks.keySet().forEach(System::clearProperty);
      t.interrupt();
      t.join(60_000);
    }
    return thrown.get();
  }
}
