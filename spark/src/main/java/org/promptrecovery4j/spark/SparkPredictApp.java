package org.promptrecovery4j.spark;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.promptrecovery4j.recovery.RecoveryConfig;

/**
 * {@code predict} as a Spark application, for {@code spark-submit --class org.promptrecovery4j.spark.SparkPredictApp
 * prompt-recovery-spark.jar --input ... --config ... --output ...}: a thin shell over {@link SparkPredict} (read,
 * predict, write, and optionally one Kaggle submission file on the driver), with a summary line at the end.
 * docs/spark.md ("Submitting and the standalone cluster") shows a whole command.
 */
public final class SparkPredictApp {

  static final String USAGE = "usage: SparkPredictApp --input ROWS.csv|ROWS.parquet --config recovery.json --output DIR"
      + " [--format csv|parquet] [--submission FILE.csv] [--partitions N]";

  /** The command line, checked. */
  record Options(String input, Path config, String output, SparkPredict.Format format, Path submission,
      Integer partitions) {

    static Options parse(String... args) {
      String input = null;
      String config = null;
      String output = null;
      String format = "csv";
      String submission = null;
      Integer partitions = null;
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (!a.startsWith("--")) {
          throw new IllegalArgumentException("unexpected argument \"" + a + "\"");
        }
        if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
          throw new IllegalArgumentException("option " + a + " needs a value");
        }
        String v = args[++i];
        switch (a) {
          case "--input" -> input = v;
          case "--config" -> config = v;
          case "--output" -> output = v;
          case "--format" -> format = v;
          case "--submission" -> submission = v;
          case "--partitions" -> {
            try {
              partitions = Integer.parseInt(v);
            } catch (NumberFormatException e) {
              partitions = 0;
            }
            if (partitions < 1) {
              throw new IllegalArgumentException("--partitions must be a whole number of at least 1, not \"" + v + "\"");
            }
          }
          default -> throw new IllegalArgumentException("unknown option " + a);
        }
      }
      for (String[] required : new String[][] {{"--input", input}, {"--config", config}, {"--output", output}}) {
        if (required[1] == null) {
          throw new IllegalArgumentException("missing required option " + required[0]);
        }
      }
      SparkPredict.Format f = switch (format.toLowerCase(Locale.ROOT)) {
        case "csv" -> SparkPredict.Format.CSV;
        case "parquet" -> SparkPredict.Format.PARQUET;
        default -> throw new IllegalArgumentException("--format must be csv or parquet, not \"" + format + "\"");
      };
      return new Options(input, Path.of(config), output, f, submission == null ? null : Path.of(submission), partitions);
    }
  }

  private SparkPredictApp() {}

  public static void main(String[] args) throws IOException {
    Options o;
    try {
      o = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("SparkPredictApp: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
      return;
    }
    SparkSession spark = SparkSession.builder().appName("prompt-recovery predict").getOrCreate();
    try {
      run(spark, o, System.err);
    } finally {
      spark.stop();
    }
  }

  /**
   * Reads {@code o.input}, predicts with {@code o.config}, writes {@code o.output} (a new folder) and, if asked, one
   * submission CSV; prints a summary line ({@code rows, failed, seconds, rows/s}) to {@code log}.
   */
  static void run(SparkSession spark, Options o, PrintStream log) throws IOException {
    long start = System.nanoTime();
    RecoveryConfig config = RecoveryConfig.read(o.config());
    Dataset<Row> rows = SparkPredict.read(spark, o.input());
    if (o.partitions() != null) {
      rows = rows.repartition(o.partitions());
    }
    Dataset<Row> result = SparkPredict.predict(rows, config);
    if (o.submission() != null) {
      result = result.cache(); // written twice: predicted once
    }
    SparkPredict.write(result, o.output(), o.format());
    if (o.submission() != null) {
      SparkPredict.writeSubmission(result, o.submission(), log);
    }
    Dataset<Row> written = o.format() == SparkPredict.Format.PARQUET ? spark.read().parquet(o.output())
        : spark.read().option("header", "true").option("multiLine", "true").option("escape", "\"").csv(o.output());
    long n = written.count();
    long failed = o.format() == SparkPredict.Format.PARQUET ? written.filter(written.col(SparkPredict.ERROR)
        .isNotNull()).count() : -1;
    double s = (System.nanoTime() - start) / 1e9;
    log.printf(Locale.ROOT, "spark predict: %d rows%s in %.1f s (%.2f rows/s, %d partitions, master %s) -> %s%n", n,
        failed < 0 ? "" : ", " + failed + " failed (fallback prompt)", s, n / s, rows.rdd().getNumPartitions(),
        spark.sparkContext().master(), o.output());
  }
}
