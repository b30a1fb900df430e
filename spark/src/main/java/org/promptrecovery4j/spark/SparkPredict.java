package org.promptrecovery4j.spark;

import static org.apache.spark.sql.functions.col;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.promptrecovery4j.evaluation.Submission;
import org.promptrecovery4j.recovery.KaggleCsv;
import org.promptrecovery4j.recovery.KaggleRow;
import org.promptrecovery4j.recovery.PredictJob;
import org.promptrecovery4j.recovery.RecoveryConfig;

/**
 * {@code predict} on Apache Spark: every row of a DataFrame ({@code id, original_text, rewritten_text}; other
 * columns ignored) gets a recovered prompt, through the same per-batch step as the single-machine job
 * ({@link PredictJob#predictBatch}): each partition in batches of the config's {@code batch_size}, with the
 * ensemble each executor JVM loads once ({@link ExecutorModels}). A row whose recovery fails gets the fallback
 * prompt and its error in the {@code error} column; the job does not fail for it. A task that dies is retried by
 * Spark; writing through Spark's writer ({@link #write}) commits per task, so a retry never duplicates a row.
 * docs/spark.md shows a whole application.
 */
public final class SparkPredict {

  public static final String ID = KaggleCsv.ID;
  public static final String PROMPT = Submission.PROMPT;
  public static final String ERROR = "error";

  /** The result's columns: id, rewrite_prompt (never blank), error (null unless the row got the fallback). */
  public static final StructType OUTPUT = new StructType(new StructField[] {
    DataTypes.createStructField(ID, DataTypes.StringType, false),
    DataTypes.createStructField(PROMPT, DataTypes.StringType, false),
    DataTypes.createStructField(ERROR, DataTypes.StringType, true)});

  /**
   * Test hook (never set outside tests): the first attempt of the task of this partition fails after its first batch
   * (or at its end), so that Spark retries it.
   */
  public static final String FAIL_ONCE_PARTITION_PROPERTY = SparkJobs.FAIL_ONCE_PARTITION_PROPERTY;

  /** How {@link #write} stores a result. */
  public enum Format { CSV, PARQUET }

  private SparkPredict() {}

  /**
   * The prompts of {@code rows} with the recoverers of {@code config} (lazy, as any Dataset: the work runs when an
   * action or a write asks for it). The config's paths must exist on every executor: shared paths (the same absolute
   * path everywhere), or, for a config read from a distributed archive ({@link ModelPaths#readConfig}), its relative
   * paths inside that archive.
   */
  public static Dataset<Row> predict(Dataset<Row> rows, RecoveryConfig config) {
    SparkJobs.requireColumns("predict: the rows have", rows, KaggleCsv.REQUIRED);
    Dataset<Row> in = rows.select(col(ID).cast("string"), col(KaggleCsv.ORIGINAL_TEXT).cast("string"),
        col(KaggleCsv.REWRITTEN_TEXT).cast("string"));
    SparkJobs.Counters counters = SparkJobs.Counters.register(rows, "predict");
    return SparkJobs.attach(in.mapPartitions(new Predictor(ExecutorModels.ConfigSpec.of(config), counters),
        Encoders.row(OUTPUT)), counters);
  }

  /**
   * Rows from a Parquet file or folder (a path ending in {@code .parquet}) or a CSV file or folder of CSVs with a
   * header (Kaggle's quoting: fields in double quotes, quotes doubled, line breaks inside quotes). Every column is read
   * as text. The required columns, ids present and each id once are checked here, with errors naming the path.
   */
  public static Dataset<Row> read(SparkSession spark, String path) {
    return SparkJobs.read(spark, path, KaggleCsv.REQUIRED);
  }

  /**
   * Writes a result with Spark's writer into the folder {@code path} (which must not exist yet): CSV in Kaggle's
   * format ({@code id,rewrite_prompt}, header in each part file; the error column left out) or Parquet (all three
   * columns). Spark's commit protocol commits each task's file once, so a retried task never duplicates rows, and the
   * folder gets its {@code _SUCCESS} marker only when every task is committed. Prints the summary line (rows, failed,
   * seconds, rows/s) to stderr.
   */
  public static void write(Dataset<Row> result, String path, Format format) {
    write(result, path, format, System.err);
  }

  /** {@link #write(Dataset, String, Format)}, the summary line printed to {@code log}. */
  public static void write(Dataset<Row> result, String path, Format format, java.io.PrintStream log) {
    SparkJobs.timed(result, path, log, () -> {
      switch (format) {
        case CSV -> result.select(ID, PROMPT).write().option("header", "true").option("quote", "\"")
            .option("escape", "\"").csv(path);
        case PARQUET -> result.write().parquet(path);
      }
    });
  }

  /**
   * For small outputs: the result gathered on the driver and written as one Kaggle submission CSV by the project's
   * writer ({@link Submission#write}: atomic, every id once), in the result's order. Returns the rows that failed
   * (id and error), and prints two lines to {@code log}: the job's summary (rows, failed, seconds, rows/s) and what
   * was written.
   */
  @SuppressWarnings("unchecked")
  public static List<Row> writeSubmission(Dataset<Row> result, Path csv, java.io.PrintStream log) throws IOException {
    List<Row>[] collected = new List[1];
    SparkJobs.timed(result, "the driver", log, () -> collected[0] = result.collectAsList());
    List<Row> all = collected[0];
    List<Submission.Row> rows = new ArrayList<>(all.size());
    List<Row> failed = new ArrayList<>();
    for (Row r : all) {
      rows.add(new Submission.Row(r.getString(0), r.getString(1)));
      if (!r.isNullAt(2)) {
        failed.add(RowFactory.create(r.getString(0), r.getString(2)));
      }
    }
    Submission.write(csv, rows);
    log.printf(Locale.ROOT, "spark predict: wrote %d prompts to %s%s%n", rows.size(), csv,
        failed.isEmpty() ? "" : "; " + failed.size() + " rows failed and got the fallback prompt");
    return failed;
  }

  /** One partition: rows in, answers out, a batch at a time through {@link PredictJob#predictBatch}. */
  static final class Predictor implements MapPartitionsFunction<Row, Row> {
    private final ExecutorModels.ConfigSpec spec;
    private final SparkJobs.Counters counters;

    Predictor(ExecutorModels.ConfigSpec spec, SparkJobs.Counters counters) {
      this.spec = spec;
      this.counters = counters;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      ExecutorModels.Loaded<ExecutorModels.Recoverers> loaded = ExecutorModels.recoverers(spec);
      RecoveryConfig config = loaded.model().config();
      long[] index = {0};
      return new SparkJobs.Batches(rows, config.batchSize(), batch -> {
        List<KaggleRow> rs = new ArrayList<>(batch.size());
        for (Row r : batch) {
          rs.add(new KaggleRow(r.getString(0), SparkJobs.text(r, 1), SparkJobs.text(r, 2), Optional.empty(),
              java.util.Map.of(), ++index[0]));
        }
        List<PredictJob.Answer> answers;
        synchronized (loaded.lock()) {
          answers = PredictJob.predictBatch(rs, loaded.model().recoverer(), config, System.err);
        }
        List<Row> out = new ArrayList<>(rs.size());
        for (int i = 0; i < rs.size(); i++) {
          PredictJob.Answer a = answers.get(i);
          out.add(RowFactory.create(rs.get(i).id(), a.prompt(), a.error()));
        }
        return out;
      }, counters, 2);
    }
  }
}
