package org.promptrecovery4j.spark;

import static org.apache.spark.sql.functions.col;

import java.io.PrintStream;
import java.nio.file.Files;
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
import org.promptrecovery4j.models.builtin.BuiltinModels;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;

/**
 * {@code embed} on Apache Spark: the sentence embedding of every row's text ({@code id, text}; other columns ignored),
 * through the same library call as the single-machine command ({@link SentenceEmbedder#load} and
 * {@link SentenceEmbedder#embed}): each partition in batches of {@code batchSize} texts, with the model each executor
 * JVM loads once ({@link ExecutorModels}). A batch that fails is embedded again row by row; a row that still fails
 * gets a null embedding and its error in the {@code error} column, and the job goes on.
 */
public final class SparkEmbed {

  public static final String ID = SparkPredict.ID;
  public static final String TEXT = "text";
  public static final String EMBEDDING = "embedding";
  public static final String ERROR = SparkPredict.ERROR;

  /** The result's columns: id, embedding (float32, null for a failed row), error (null unless the row failed). */
  public static final StructType OUTPUT = new StructType(new StructField[] {
    DataTypes.createStructField(ID, DataTypes.StringType, false),
    DataTypes.createStructField(EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType, false), true),
    DataTypes.createStructField(ERROR, DataTypes.StringType, true)});

  /**
   * What {@code embed} is given: the model ({@code --model}: a sentence-transformers folder, or a built-in name such
   * as all-MiniLM-L6-v2), {@code --batch-size}, {@code --column} and {@code --kaggle-compat}.
   */
  public record Settings(String model, int batchSize, String column, boolean kaggleCompat) implements java.io.Serializable {
    public Settings {
      if (batchSize < 1) {
        throw new IllegalArgumentException("batch size must be at least 1, is " + batchSize);
      }
    }

    /** The CLI's defaults: batches of 32, column {@code text}, PyTorch's tokenization. */
    public static Settings of(String model) {
      return new Settings(model, 32, TEXT, false);
    }

    public Settings withBatchSize(int b) {
      return new Settings(model, b, column, kaggleCompat);
    }

    public Settings withColumn(String c) {
      return new Settings(model, batchSize, c, kaggleCompat);
    }

    public Settings withKaggleCompat(boolean k) {
      return new Settings(model, batchSize, column, k);
    }
  }

  private SparkEmbed() {}

  /**
   * The embeddings of {@code rows} (lazy). A model folder is a shared path (the same absolute path on every executor;
   * a relative one is made absolute here, on the driver) or a {@code sparkfiles:} path inside a distributed archive
   * ({@link ModelPaths}); a built-in name is resolved on each executor.
   */
  public static Dataset<Row> embed(Dataset<Row> rows, Settings settings) {
    SparkJobs.requireColumns("embed: the rows have", rows, List.of(ID, settings.column()));
    String model = BuiltinModels.isBuiltin(settings.model()) && !Files.exists(Path.of(settings.model()))
        ? settings.model() : ModelPaths.forExecutors(settings.model());
    Settings s = new Settings(model, settings.batchSize(), settings.column(), settings.kaggleCompat());
    Dataset<Row> in = rows.select(col(ID).cast("string"), col(settings.column()).cast("string"));
    SparkJobs.Counters counters = SparkJobs.Counters.register(rows, "embed");
    return SparkJobs.attach(in.mapPartitions(new Embedder(s, counters), Encoders.row(OUTPUT)), counters);
  }

  /**
   * Writes a result as Parquet into the folder {@code path} (which must not exist yet), committed per task by Spark,
   * and prints the summary line (rows, failed, seconds, rows/s) to {@code log}.
   */
  public static void write(Dataset<Row> result, String path, PrintStream log) {
    SparkJobs.timed(result, path, log, () -> result.write().parquet(path));
  }

  /** The model of {@code s} as the executor loads it (once per JVM). */
  static ExecutorModels.Loaded<SentenceEmbedder> model(Settings s) {
    String key = "embed\n" + s.model() + "\n" + s.batchSize() + "\n" + s.kaggleCompat();
    return ExecutorModels.get(key, "embed " + s.model(),
        () -> SentenceEmbedder.load(ModelPaths.isSparkFiles(s.model()) ? ModelPaths.resolve(s.model())
            : BuiltinModels.resolve(s.model()), s.batchSize(), s.kaggleCompat()));
  }

  /** One partition: texts in, embeddings out, a batch at a time. */
  static final class Embedder implements MapPartitionsFunction<Row, Row> {
    private final Settings settings;
    private final SparkJobs.Counters counters;

    Embedder(Settings settings, SparkJobs.Counters counters) {
      this.settings = settings;
      this.counters = counters;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      ExecutorModels.Loaded<SentenceEmbedder> loaded = model(settings);
      return new SparkJobs.Batches(rows, settings.batchSize(), batch -> {
        synchronized (loaded.lock()) {
          return SparkJobs.vectorsOrErrors("embed", settings.model(), batch,
              part -> loaded.model().embed(part.stream().map(r -> SparkJobs.text(r, 1)).toList()));
        }
      }, counters, 2);
    }
  }
}
