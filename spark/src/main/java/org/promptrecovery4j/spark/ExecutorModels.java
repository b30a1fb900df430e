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
 * What each executor JVM has loaded, for every Spark job of the module: a model (an ensemble of recoverers, a sentence
 * embedder, a DeBERTa feature model) is loaded once per JVM, on the first task that needs it, and reused by every
 * later task and partition of any job with the same key (the job's name, the model's absolute folder and the settings
 * that change what is loaded). Loaded things stay for the JVM's life; those that are {@link AutoCloseable} are closed
 * at its exit.
 *
 * <p>Tasks running at the same time in one JVM share one loaded model and take turns with it ({@link Loaded#lock}):
 * ND4J already spreads one batch over the executor's cores, so one task a JVM at a time ({@code spark.task.cpus} =
 * {@code spark.executor.cores}) is the setting docs/spark.md recommends.
 */
final class ExecutorModels {

  /** Loads a model where it runs (on the executor). */
  @FunctionalInterface
  interface Loader<T> {
    T load() throws IOException;
  }

  /** A loaded model, and the lock tasks of this JVM take turns with. */
  record Loaded<T>(T model, Object lock) {}

  /**
   * A config as it travels to executors: its JSON, the folder its relative paths resolve against (a shared path, or a
   * {@code sparkfiles:} one when the config was read from a distributed archive: {@link ModelPaths}), its name.
   */
  record ConfigSpec(String json, String baseDir, String source) implements Serializable {
    static ConfigSpec of(RecoveryConfig c) {
      return new ConfigSpec(c.canonical(), ModelPaths.forExecutors(c.baseDir().toString()), c.source());
    }

    String key() {
      return "predict\n" + source + "\n" + baseDir + "\n" + json;
    }

    /** The config read again where it runs (paths are checked on this machine: a missing one is an error naming it). */
    RecoveryConfig read() {
      return RecoveryConfig.parse(json, ModelPaths.resolve(baseDir), source);
    }
  }

  /** A config's ensemble, as {@code predict} loads it. */
  record Recoverers(RecoveryConfig config, EnsembleRecoverer recoverer) implements AutoCloseable {
    @Override
    public void close() {
      recoverer.close();
    }
  }

  private static final Map<String, Loaded<?>> LOADED = new LinkedHashMap<>();
  private static int loads;
  private static boolean hookAdded;

  private ExecutorModels() {}

  /**
   * The model loaded under {@code key}, loading it with {@code loader} on first use in this JVM. A failed load is an
   * error naming {@code what} (and is tried again by the next task).
   */
  @SuppressWarnings("unchecked")
  static synchronized <T> Loaded<T> get(String key, String what, Loader<T> loader) {
    Loaded<T> l = (Loaded<T>) LOADED.get(key);
    if (l == null) {
      try {
        l = new Loaded<>(loader.load(), new Object());
      } catch (IOException e) {
        throw new UncheckedIOException(what + ": loading failed: " + e.getMessage(), e);
      }
      LOADED.put(key, l);
      loads++;
      if (!hookAdded) {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "pr4j-close-models"));
        hookAdded = true;
      }
    }
    return l;
  }

  /** The loaded ensemble of {@code spec}, loading it on first use in this JVM. */
  static Loaded<Recoverers> recoverers(ConfigSpec spec) {
    return get(spec.key(), spec.source(), () -> {
      RecoveryConfig c = spec.read();
      return new Recoverers(c, c.build());
    });
  }

  /** How many models this JVM has loaded (each once): for tests and logs. */
  static synchronized int loads() {
    return loads;
  }

  /** Closes every loaded model that can be closed (the next task loads again). */
  static synchronized void closeAll() {
    for (Loaded<?> l : LOADED.values()) {
      if (l.model() instanceof AutoCloseable c) {
        synchronized (l.lock()) {
          try {
            c.close();
          } catch (Exception e) {
            System.err.println("closing a loaded model failed: " + e);
          }
        }
      }
    }
    LOADED.clear();
  }
}
