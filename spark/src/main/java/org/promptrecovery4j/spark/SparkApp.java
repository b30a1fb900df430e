package org.promptrecovery4j.spark;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.promptrecovery4j.models.DecoderCompute;
import org.promptrecovery4j.models.nn.LinearPrecision;
import org.promptrecovery4j.recovery.KaggleCsv;

/**
 * The module's jobs as one Spark application, for {@code spark-submit --class org.promptrecovery4j.spark.SparkApp
 * prompt-recovery-spark.jar JOB --input ... --output ... [options]} with JOB = {@code predict}, {@code embed},
 * {@code features} or {@code rewrite}: a thin shell over {@link SparkPredict}, {@link SparkEmbed},
 * {@link SparkFeatures} and {@link SparkRewrite} (read the rows, optionally repartition, run the job, write it), with a
 * summary line at the end. One main class and one command-line parser for the four jobs (the jar's
 * {@code Main-Class}); {@link SparkPredictApp} is {@code SparkApp predict}. Model paths and configs may be shared paths
 * or {@code sparkfiles:NAME/...} paths inside an archive given to {@code --archives} ({@link ModelPaths}).
 * docs/spark.md ("Submitting and the standalone cluster") shows whole commands.
 */
public final class SparkApp {

  static final String USAGE = String.join("\n",
      "usage: SparkApp JOB --input ROWS.csv|ROWS.parquet --output DIR [--partitions N] [job options]",
      "  predict  --config recovery.json|sparkfiles:NAME/recovery.json [--format csv|parquet] [--submission FILE.csv]",
      "  embed    --model DIR|sparkfiles:NAME/DIR|BUILTIN [--batch-size 32] [--column text] [--kaggle-compat]",
      "  features --model DIR|sparkfiles:NAME/DIR [--batch-size 8] [--max-length 384] [--compute float32|bf16]",
      "  rewrite  --model DIR|sparkfiles:NAME/DIR [--batch-size 8] [--max-new-tokens 256]"
          + " [--compute float32|bf16|as-stored]",
      "embed, features and rewrite write Parquet (id, value, error); predict writes CSV (id,rewrite_prompt) or Parquet");

  /** The options every job takes, and each job's own (a name in {@link #FLAGS} takes no value). */
  private static final List<String> COMMON = List.of("--input", "--output", "--partitions");
  private static final Map<String, List<String>> JOB_OPTIONS = new LinkedHashMap<>();
  private static final Set<String> FLAGS = Set.of("--kaggle-compat");

  static {
    JOB_OPTIONS.put("predict", List.of("--config", "--format", "--submission"));
    JOB_OPTIONS.put("embed", List.of("--model", "--batch-size", "--column", "--kaggle-compat"));
    JOB_OPTIONS.put("features", List.of("--model", "--batch-size", "--max-length", "--compute"));
    JOB_OPTIONS.put("rewrite", List.of("--model", "--batch-size", "--max-new-tokens", "--compute"));
  }

  /** What a job does once its rows are read: runs the library job and writes {@code output}. */
  interface Job {
    /** The job's name: its record's, in lower case. */
    default String name() {
      return getClass().getSimpleName().toLowerCase(Locale.ROOT);
    }

    /** The columns the input must have (checked when it is read, naming the file). */
    List<String> columns();

    /** Whether the output is Parquet with an error column (else predict's CSV). */
    default boolean parquet() {
      return true;
    }

    void run(Dataset<Row> rows, String output, PrintStream log) throws IOException;
  }

  /** {@code predict}: {@link SparkPredict}, and optionally one Kaggle submission on the driver. */
  record Predict(String config, SparkPredict.Format format, Path submission) implements Job {
    @Override
    public List<String> columns() {
      return KaggleCsv.REQUIRED;
    }

    @Override
    public boolean parquet() {
      return format == SparkPredict.Format.PARQUET;
    }

    @Override
    public void run(Dataset<Row> rows, String output, PrintStream log) throws IOException {
      Dataset<Row> result = SparkPredict.predict(rows, ModelPaths.readConfig(config));
      if (submission != null) {
        result = result.cache(); // written twice: predicted once
      }
      SparkPredict.write(result, output, format, log);
      if (submission != null) {
        SparkPredict.writeSubmission(result, submission, log);
      }
    }
  }

  /** {@code embed}: {@link SparkEmbed}. */
  record Embed(SparkEmbed.Settings settings) implements Job {
    @Override
    public List<String> columns() {
      return List.of(SparkEmbed.ID, settings.column());
    }

    @Override
    public void run(Dataset<Row> rows, String output, PrintStream log) {
      SparkEmbed.write(SparkEmbed.embed(rows, settings), output, log);
    }
  }

  /** {@code features}: {@link SparkFeatures}. */
  record Features(SparkFeatures.Settings settings) implements Job {
    @Override
    public List<String> columns() {
      return List.of(SparkFeatures.ID, settings.originalColumn(), settings.rewrittenColumn());
    }

    @Override
    public void run(Dataset<Row> rows, String output, PrintStream log) {
      SparkFeatures.write(SparkFeatures.features(rows, settings), output, log);
    }
  }

  /** {@code rewrite}: {@link SparkRewrite}. */
  record Rewrite(SparkRewrite.Settings settings) implements Job {
    @Override
    public List<String> columns() {
      return SparkRewrite.REQUIRED;
    }

    @Override
    public void run(Dataset<Row> rows, String output, PrintStream log) {
      SparkRewrite.write(SparkRewrite.rewrite(rows, settings), output, log);
    }
  }

  /** The command line, checked: where the rows come from and go, and the job with its settings. */
  record Options(String input, String output, Integer partitions, Job job) {

    /** {@code JOB --option value ...}; errors name the option (or the job) and what was wrong. */
    static Options parse(String... args) {
      if (args.length == 0 || args[0].startsWith("--")) {
        throw new IllegalArgumentException("missing the job: one of " + String.join(", ", JOB_OPTIONS.keySet()));
      }
      String job = args[0];
      List<String> own = JOB_OPTIONS.get(job);
      if (own == null) {
        throw new IllegalArgumentException("unknown job \"" + job + "\" (one of " + String.join(", ",
            JOB_OPTIONS.keySet()) + ")");
      }
      Map<String, String> v = new LinkedHashMap<>();
      for (int i = 1; i < args.length; i++) {
        String a = args[i];
        if (!a.startsWith("--")) {
          throw new IllegalArgumentException("unexpected argument \"" + a + "\"");
        }
        if (!COMMON.contains(a) && !own.contains(a)) {
          throw new IllegalArgumentException("unknown option " + a + (JOB_OPTIONS.values().stream()
              .anyMatch(l -> l.contains(a)) ? " for " + job : ""));
        }
        if (FLAGS.contains(a)) {
          v.put(a, "true");
          continue;
        }
        if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
          throw new IllegalArgumentException("option " + a + " needs a value");
        }
        v.put(a, args[++i]);
      }
      List<String> required = new ArrayList<>(List.of("--input"));
      required.add(job.equals("predict") ? "--config" : "--model");
      required.add("--output");
      for (String r : required) {
        if (!v.containsKey(r)) {
          throw new IllegalArgumentException("missing required option " + r);
        }
      }
      Integer partitions = v.containsKey("--partitions") ? positive(v, "--partitions", 0) : null;
      Job j = switch (job) {
        case "predict" -> new Predict(v.get("--config"), switch (v.getOrDefault("--format", "csv")
            .toLowerCase(Locale.ROOT)) {
              case "csv" -> SparkPredict.Format.CSV;
              case "parquet" -> SparkPredict.Format.PARQUET;
              default -> throw new IllegalArgumentException("--format must be csv or parquet, not \""
                  + v.get("--format") + "\"");
            }, v.containsKey("--submission") ? Path.of(v.get("--submission")) : null);
        case "embed" -> new Embed(SparkEmbed.Settings.of(v.get("--model"))
            .withBatchSize(positive(v, "--batch-size", 32))
            .withColumn(v.getOrDefault("--column", SparkEmbed.TEXT))
            .withKaggleCompat(v.containsKey("--kaggle-compat")));
        case "features" -> {
          SparkFeatures.Settings s = SparkFeatures.Settings.of(v.get("--model"));
          yield new Features(s.withBatchSize(positive(v, "--batch-size", s.batchSize()))
              .withMaxLength(positive(v, "--max-length", s.maxLength()))
              .withCompute(v.containsKey("--compute") ? LinearPrecision.parse(v.get("--compute")) : s.compute()));
        }
        default -> {
          SparkRewrite.Settings s = SparkRewrite.Settings.of(v.get("--model"));
          yield new Rewrite(s.withBatchSize(positive(v, "--batch-size", s.batchSize()))
              .withMaxNewTokens(positive(v, "--max-new-tokens", s.maxNewTokens()))
              .withCompute(v.containsKey("--compute") ? DecoderCompute.parse(v.get("--compute"), "--compute")
                  : s.compute()));
        }
      };
      return new Options(v.get("--input"), v.get("--output"), partitions, j);
    }

    /** A whole number of at least 1 ({@code fallback} when the option is absent). */
    private static int positive(Map<String, String> v, String option, int fallback) {
      String s = v.get(option);
      if (s == null) {
        return fallback;
      }
      int n;
      try {
        n = Integer.parseInt(s);
      } catch (NumberFormatException e) {
        n = 0;
      }
      if (n < 1) {
        throw new IllegalArgumentException(option + " must be a whole number of at least 1, not \"" + s + "\"");
      }
      return n;
    }
  }

  private SparkApp() {}

  public static void main(String[] args) throws IOException {
    main("SparkApp", args);
  }

  /** Parses {@code args} (a bad command line: the reason and the usage, exit 2), then runs the job in a session. */
  static void main(String program, String[] args) throws IOException {
    Options o;
    try {
      o = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(program + ": " + e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
      return;
    }
    SparkSession spark = SparkSession.builder().appName("prompt-recovery " + o.job().name()).getOrCreate();
    try {
      run(spark, o, System.err);
    } finally {
      spark.stop();
    }
  }

  /**
   * Reads {@code o.input}, runs the job, writes {@code o.output} (a new folder) and prints a summary line
   * ({@code rows, failed, seconds, rows/s, partitions, master}) to {@code log}; the row count is read back from the
   * committed output.
   */
  static void run(SparkSession spark, Options o, PrintStream log) throws IOException {
    long start = System.nanoTime();
    Job job = o.job();
    Dataset<Row> rows = SparkJobs.read(spark, o.input(), job.columns());
    if (o.partitions() != null) {
      rows = rows.repartition(o.partitions());
    }
    job.run(rows, o.output(), log);
    Dataset<Row> written = job.parquet() ? spark.read().parquet(o.output())
        : spark.read().option("header", "true").option("multiLine", "true").option("escape", "\"").csv(o.output());
    long n = written.count();
    long failed = job.parquet() ? written.filter(written.col(SparkPredict.ERROR).isNotNull()).count() : -1;
    double s = (System.nanoTime() - start) / 1e9;
    log.printf(Locale.ROOT, "spark %s: %d rows%s in %.1f s (%.2f rows/s, %d partitions, master %s) -> %s%n",
        job.name(), n, failed < 0 ? "" : ", " + failed + " failed" + (job instanceof Predict ? " (fallback prompt)" : ""),
        s, n / s, rows.rdd().getNumPartitions(), spark.sparkContext().master(), o.output());
  }
}
