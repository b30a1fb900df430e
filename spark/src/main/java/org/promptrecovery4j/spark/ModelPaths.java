package org.promptrecovery4j.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.spark.SparkFiles;
import org.promptrecovery4j.recovery.RecoveryConfig;

/**
 * Where a model path given to a Spark job is found on the machine that uses it: the one place the four jobs resolve
 * model folders and configs (docs/spark.md, "Models on the executors").
 *
 * <p>The rule: a path written {@code sparkfiles:NAME/REST} is {@code REST} inside the archive (or file) Spark
 * distributed as {@code NAME} ({@code spark-submit --archives models.tar.gz#NAME}, or
 * {@code SparkContext.addArchive("models.tar.gz#NAME")}; {@code --files}/{@code addFile} for a single file named
 * {@code NAME}), resolved against {@link SparkFiles#getRootDirectory()} of the JVM that uses it: the executor's for
 * the models, the driver's for a config the driver reads. A config read through {@code sparkfiles:} resolves its
 * relative paths inside the same archive on each executor (its absolute paths stay shared paths). Any other path is a
 * shared path: made absolute on the driver and used as is on every executor. A path inside the driver's SparkFiles
 * root (e.g. {@code SparkFiles.get("models")}) is taken as the same path inside each executor's root.
 */
public final class ModelPaths {

  /** The prefix of a path inside Spark's distributed files. */
  public static final String PREFIX = "sparkfiles:";

  private ModelPaths() {}

  /** Whether {@code path} is written {@code sparkfiles:NAME/REST}. */
  public static boolean isSparkFiles(String path) {
    return path.startsWith(PREFIX);
  }

  /**
   * {@code path} as it is sent to the executors (on the driver): a {@code sparkfiles:} path as it is, a path inside
   * the driver's SparkFiles root in the {@code sparkfiles:} form, any other path absolute and normalized.
   */
  public static String forExecutors(String path) {
    if (isSparkFiles(path)) {
      return PREFIX + checkedRest(path);
    }
    Path p = Path.of(path).toAbsolutePath().normalize();
    Path root = root();
    if (root != null && p.startsWith(root) && !p.equals(root)) {
      return PREFIX + root.relativize(p).toString().replace('\\', '/');
    }
    return p.toString();
  }

  /**
   * {@code path} on this JVM (an executor's, or the driver's for a config): a {@code sparkfiles:} path under this
   * JVM's SparkFiles root, which must hold it (else an error naming the path, the archive and the root); any other
   * path as it is.
   */
  public static Path resolve(String path) {
    if (!isSparkFiles(path)) {
      return Path.of(path);
    }
    String rest = checkedRest(path);
    String archive = rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : rest;
    Path root = root();
    if (root == null) {
      throw new IllegalStateException(path + ": no Spark in this JVM (SparkFiles has no root directory): a sparkfiles:"
          + " path is resolved where Spark distributed the archive");
    }
    Path p = root.resolve(rest).normalize();
    if (!Files.exists(p)) {
      String where = Files.isDirectory(root.resolve(archive)) ? "the archive \"" + archive + "\" is here but has no "
          + root.relativize(p).toString().substring(archive.length()).replaceFirst("^/", "")
          : "no archive or file \"" + archive + "\" was distributed to this JVM (spark-submit --archives FILE#" + archive
              + " or --files, SparkContext.addArchive(\"FILE#" + archive + "\"); here: " + listing(root) + ")";
      throw new IllegalArgumentException(path + ": " + p + " does not exist: " + where);
    }
    return p;
  }

  /**
   * Reads a config file on the driver: a shared path, or {@code sparkfiles:NAME/recovery.json} (the archive must have
   * been added to this application, so that the driver has it too: {@code --archives}/{@code spark.archives}).
   */
  public static RecoveryConfig readConfig(String path) throws IOException {
    return RecoveryConfig.read(resolve(path));
  }

  /** The SparkFiles root of this JVM (absolute), or null without a running Spark. */
  static Path root() {
    if (org.apache.spark.SparkEnv.get() == null) {
      return null;
    }
    return Path.of(SparkFiles.getRootDirectory()).toAbsolutePath().normalize();
  }

  private static String checkedRest(String path) {
    String rest = path.substring(PREFIX.length()).replaceFirst("^/+", "");
    if (rest.isEmpty() || Path.of(rest).normalize().startsWith("..")) {
      throw new IllegalArgumentException(path + ": a sparkfiles: path names an archive and a path inside it, as in"
          + " sparkfiles:models/sentence-t5-base");
    }
    return Path.of(rest).normalize().toString().replace('\\', '/');
  }

  private static String listing(Path root) {
    try (Stream<Path> s = Files.list(root)) {
      var names = s.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".jar")).sorted().limit(20).toList();
      return names.isEmpty() ? "nothing in " + root : String.join(", ", names) + " in " + root;
    } catch (IOException e) {
      return root + " unreadable";
    }
  }
}
