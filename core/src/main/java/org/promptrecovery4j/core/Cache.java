package org.promptrecovery4j.core;

import java.nio.file.Path;
import java.util.List;

/**
 * Where PromptRecovery4J keeps what it can compute again (built-in models, embeddings of prompt banks): the system
 * property {@value #PROPERTY}, else the environment variable {@value #ENV}, else {@code $XDG_CACHE_HOME/promptrecovery4j},
 * else {@code ~/.cache/promptrecovery4j}; when none of those was asked for explicitly, the temporary folder is the
 * fallback for a home cache that cannot be written. Tests point {@value #PROPERTY} into {@code target/}.
 */
public final class Cache {

  /** The system property naming the cache folder. */
  public static final String PROPERTY = "pr4j.cache";

  /** The environment variable naming the cache folder (when the property is not set). */
  public static final String ENV = "PR4J_CACHE";

  private Cache() {}

  /**
   * The cache folders to try, in order: one when the property or the environment variable names it (asked for
   * explicitly: no silent fallback), else the home cache then a per-user folder in the temporary folder.
   */
  public static List<Path> roots() {
    String prop = System.getProperty(PROPERTY);
    if (prop != null && !prop.isBlank()) {
      return List.of(Path.of(prop));
    }
    String env = System.getenv(ENV);
    if (env != null && !env.isBlank()) {
      return List.of(Path.of(env));
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path home = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"), "promptrecovery4j-" + System.getProperty("user.name", "user"));
    return List.of(home.resolve("promptrecovery4j"), tmp);
  }
}
