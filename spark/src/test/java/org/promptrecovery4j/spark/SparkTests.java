package org.promptrecovery4j.spark;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.promptrecovery4j.evaluation.Submission;
import org.promptrecovery4j.recovery.KaggleRow;
import org.promptrecovery4j.recovery.PredictJob;
import org.promptrecovery4j.recovery.PromptRecoverer;
import org.promptrecovery4j.recovery.RecovererTypes;
import org.promptrecovery4j.recovery.RecoveryConfig;

/** What the Spark tests share: a local session, the single-machine run to compare with, a cheap failing recoverer. */
final class SparkTests {

  static final Path FIXTURES = Path.of(System.getProperty("pr4j.fixtures", "../fixtures"));
  static final Path SAMPLE = FIXTURES.toAbsolutePath().resolveSibling("examples").resolve("sample.csv");
  static final Path SHARED_CSV = Path.of(System.getProperty("pr4j.shared", "../shared"), "data", "gemma_rewrites.csv");

  private SparkTests() {}

  /** A local session ({@code local[2]}, or {@code local[2,3]}: 2 threads, a task tried up to 3 times), no UI. */
  static SparkSession session(String master) {
    return SparkSession.builder().master(master).appName("pr4j-spark-test")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.warehouse.dir", Path.of("target", "spark-warehouse").toAbsolutePath().toString())
        .getOrCreate();
  }

  /** {@code dir}'s files (recursively) as a zip archive {@code zip}, paths relative to {@code dir}. */
  static Path zip(Path dir, Path zip) throws java.io.IOException {
    try (var out = new java.util.zip.ZipOutputStream(java.nio.file.Files.newOutputStream(zip));
        var files = java.nio.file.Files.walk(dir)) {
      for (Path f : files.filter(java.nio.file.Files::isRegularFile).sorted().toList()) {
        out.putNextEntry(new java.util.zip.ZipEntry(dir.relativize(f).toString().replace('\\', '/')));
        java.nio.file.Files.copy(f, out);
        out.closeEntry();
      }
    }
    return zip;
  }

  /** The single-machine job's answers (id → prompt), through PredictJob.run as the CLI runs it. */
  static Map<String, String> singleMachine(Path input, RecoveryConfig config, Path tmp) throws Exception {
    Path out = tmp.resolve("single-" + System.nanoTime() + ".csv");
    PredictJob.run(input, out, config, new PrintStream(new ByteArrayOutputStream(), true));
    Map<String, String> m = new LinkedHashMap<>();
    for (Submission.Row r : Submission.read(out)) {
      m.put(r.id(), r.prompt());
    }
    return m;
  }

  /** id → prompt of a Spark result (a duplicate id is kept twice in the list the caller checks). */
  static Map<String, String> answers(List<Row> rows) {
    Map<String, String> m = new LinkedHashMap<>();
    rows.forEach(r -> m.put(r.getString(0), r.getString(1)));
    return m;
  }

  /** {@code test-first-word}: "Make it <first word of the rewritten text>"; a row whose id contains "boom" throws. */
  static void registerFirstWord() {
    RecovererTypes.register(new RecovererTypes.Type("test-first-word", Set.of(), Set.of(), (s, ctx) -> new PromptRecoverer() {
      @Override
      public String name() {
        return "test-first-word";
      }

      @Override
      public List<String> recoverAll(List<KaggleRow> rows) {
        return rows.stream().map(r -> {
          if (r.id().contains("boom")) {
            throw new IllegalStateException("boom in row " + r.id());
          }
          return "Make it " + r.rewrittenText().strip().split("\\s+")[0];
        }).toList();
      }
    }));
  }
}
