package org.promptrecovery4j.spark;

import static org.apache.spark.sql.functions.col;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.promptrecovery4j.models.nn.LinearPrecision;
import org.promptrecovery4j.training.features.DebertaFeatures;
import org.promptrecovery4j.training.features.FeatureJob;

/**
 * {@code features} on Apache Spark: the frozen DeBERTa features of every (original, rewritten) row ({@code id} and
 * the two text columns; other columns ignored), through the same library call as the single-machine job
 * ({@link FeatureJob} computes its batches with {@link DebertaFeatures#open} and {@link DebertaFeatures#rows}; here
 * {@link DebertaFeatures#texts} = encode + {@code rows} of one Spark batch): each partition in batches of
 * {@code batchSize} rows, with the model each executor JVM loads once ({@link ExecutorModels}). Per row
 * {@code [original last, original second-last, rewritten last, rewritten second-last]} = 4 × hidden floats, as in the
 * job's .npy. A batch that fails is computed again row by row; a row that still fails gets null features and its error
 * in the {@code error} column, and the job goes on.
 */
public final class SparkFeatures {

  public static final String ID = SparkPredict.ID;
  public static final String FEATURES = "features";
  public static final String ERROR = SparkPredict.ERROR;

  /** The result's columns: id, features (float32, null for a failed row), error (null unless the row failed). */
  public static final StructType OUTPUT = new StructType(new StructField[] {
    DataTypes.createStructField(ID, DataTypes.StringType, false),
    DataTypes.createStructField(FEATURES, DataTypes.createArrayType(DataTypes.FloatType, false), true),
    DataTypes.createStructField(ERROR, DataTypes.StringType, true)});

  /** What {@code features} is given: the model folder and its options (the CLI's defaults from {@link #of}). */
  public record Settings(String model, int batchSize, int maxLength, String originalColumn, String rewrittenColumn,
      LinearPrecision compute) implements java.io.Serializable {
    public Settings {
      if (batchSize < 1) {
        throw new IllegalArgumentException("batch size must be at least 1, is " + batchSize);
      }
      if (maxLength < 2) {
        throw new IllegalArgumentException("max length must be at least 2 (room for [CLS] and [SEP]), is " + maxLength);
      }
    }

    /** The CLI's defaults: batches of 8, 384 tokens, original_text / rewritten_text, float32. */
    public static Settings of(Path model) {
      return of(model.toString());
    }

    /** {@link #of(Path)} for a model path as text: a shared path or {@code sparkfiles:NAME/REST} ({@link ModelPaths}). */
    public static Settings of(String model) {
      return new Settings(model, 8, DebertaFeatures.DEFAULT_MAX_LENGTH,
          "original_text", "rewritten_text", LinearPrecision.FLOAT32);
    }

    public Settings withBatchSize(int b) {
      return new Settings(model, b, maxLength, originalColumn, rewrittenColumn, compute);
    }

    public Settings withMaxLength(int m) {
      return new Settings(model, batchSize, m, originalColumn, rewrittenColumn, compute);
    }

    public Settings withColumns(String original, String rewritten) {
      return new Settings(model, batchSize, maxLength, original, rewritten, compute);
    }

    public Settings withCompute(LinearPrecision c) {
      return new Settings(model, batchSize, maxLength, originalColumn, rewrittenColumn, c);
    }
  }

  private SparkFeatures() {}

  /**
   * The features of {@code rows} (lazy). The model folder is a shared path (the same absolute path on every executor; a
   * relative one is made absolute here, on the driver) or a {@code sparkfiles:} path inside a distributed archive
   * ({@link ModelPaths}).
   */
  public static Dataset<Row> features(Dataset<Row> rows, Settings settings) {
    SparkJobs.requireColumns("features: the rows have", rows, List.of(ID, settings.originalColumn(), settings.rewrittenColumn()));
    Settings s = new Settings(ModelPaths.forExecutors(settings.model()), settings.batchSize(),
        settings.maxLength(), settings.originalColumn(), settings.rewrittenColumn(), settings.compute());
    Dataset<Row> in = rows.select(col(ID).cast("string"), col(s.originalColumn()).cast("string"),
        col(s.rewrittenColumn()).cast("string"));
    SparkJobs.Counters counters = SparkJobs.Counters.register(rows, "features");
    return SparkJobs.attach(in.mapPartitions(new Featurizer(s, counters), Encoders.row(OUTPUT)), counters);
  }

  /**
   * Writes a result as Parquet into the folder {@code path} (which must not exist yet), committed per task by Spark,
   * and prints the summary line (rows, failed, seconds, rows/s) to {@code log}.
   */
  public static void write(Dataset<Row> result, String path, PrintStream log) {
    SparkJobs.timed(result, path, log, () -> result.write().parquet(path));
  }

  /** The model of {@code s} as the executor loads it (once per JVM; the weights on its first batch). */
  static ExecutorModels.Loaded<DebertaFeatures> model(Settings s) {
    String key = "features\n" + s.model() + "\n" + s.maxLength() + "\n" + s.compute();
    return ExecutorModels.get(key, "features " + s.model(),
        () -> DebertaFeatures.open(ModelPaths.resolve(s.model()), s.maxLength(), s.compute()));
  }

  /** One partition: rows in, features out, a batch at a time. */
  static final class Featurizer implements MapPartitionsFunction<Row, Row> {
    private final Settings settings;
    private final SparkJobs.Counters counters;

    Featurizer(Settings settings, SparkJobs.Counters counters) {
      this.settings = settings;
      this.counters = counters;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      ExecutorModels.Loaded<DebertaFeatures> loaded = model(settings);
      return new SparkJobs.Batches(rows, settings.batchSize(), batch -> {
        synchronized (loaded.lock()) {
          return SparkJobs.vectorsOrErrors("features", settings.model(), batch,
              part -> loaded.model().texts(part.stream().map(r -> SparkJobs.text(r, 1)).toList(),
                  part.stream().map(r -> SparkJobs.text(r, 2)).toList(), part.size()));
        }
      }, counters, 2);
    }
  }
}
