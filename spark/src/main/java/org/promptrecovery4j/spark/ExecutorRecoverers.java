package org.promptrecovery4j.spark;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.promptrecovery4j.recovery.EnsembleRecoverer;
import org.promptrecovery4j.recovery.RecoveryConfig;

/**
 * The recoverers of each executor JVM: a config's models are loaded once per JVM, on the first task that needs them,
 * and reused by every later task and partition of any job with the same config (the key is the config's JSON, its
 * folder and its name; see {@link ConfigSpec#key}). They stay loaded for the JVM's life and are closed at its exit.
 *
 * <p>Tasks running at the same time in one JVM share one ensemble and take turns with it ({@link Loaded#lock}): ND4J
 * already spreads one batch over the executor's cores, so one task a JVM at a time ({@code spark.task.cpus} =
 * {@code spark.executor.cores}) is the setting docs/spark.md recommends.
 */
final class ExecutorRecoverers {

  /** A config as it travels to executors: its JSON, the folder its relative paths resolve against, its name. */
  record ConfigSpec(String json, String baseDir, String source) implements Serializable {
    static ConfigSpec of(RecoveryConfig c) {
      return new ConfigSpec(c.canonical(), c.baseDir().toAbsolutePath().normalize().toString(), c.source());
    }

    String key() {
      return source + "\n" + baseDir + "\n" + json;
    }

    /** The config read again where it runs (paths are checked on this machine: a missing one is an error naming it). */
    RecoveryConfig read() {
      return RecoveryConfig.parse(json, Path.of(baseDir), source);
    }
  }

  /** A loaded config: the ensemble, and the lock tasks of this JVM take turns with. */
  record Loaded(RecoveryConfig config, EnsembleRecoverer recoverer, Object lock) {}

  private static final Map<String, Loaded> LOADED = new LinkedHashMap<>();
  private static int loads;
  private static boolean hookAdded;

  private ExecutorRecoverers() {}

  /** The loaded ensemble of {@code spec}, loading it on first use in this JVM. */
  static synchronized Loaded get(ConfigSpec spec) {
    Loaded l = LOADED.get(spec.key());
    if (l == null) {
      RecoveryConfig c = spec.read();
      try {
        l = new Loaded(c, c.build(), new Object());
      } catch (IOException e) {
        throw new UncheckedIOException(spec.source() + ": loading the recoverers failed: " + e.getMessage(), e);
      }
      LOADED.put(spec.key(), l);
      loads++;
      if (!hookAdded) {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorRecoverers::closeAll, "pr4j-close-recoverers"));
        hookAdded = true;
      }
    }
    return l;
  }

  /** How many configs this JVM has loaded (each once): for tests and logs. */
  static synchronized int loads() {
    return loads;
  }

  /** Closes every loaded ensemble (the next task loads again). */
  static synchronized void closeAll() {
    for (Loaded l : LOADED.values()) {
      synchronized (l.lock()) {
        l.recoverer().close();
      }
    }
    LOADED.clear();
  }
}
