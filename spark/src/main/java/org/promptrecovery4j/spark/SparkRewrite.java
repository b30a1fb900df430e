package org.promptrecovery4j.spark;

import static org.apache.spark.sql.functions.col;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.promptrecovery4j.models.TokenizerCodecs;
import org.promptrecovery4j.models.generation.ChatTemplate;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;
import org.promptrecovery4j.models.generation.GenerationConfig;
import org.promptrecovery4j.models.generation.PromptCodec;
import org.promptrecovery4j.recovery.KaggleCsv;
import org.promptrecovery4j.recovery.RewriteJob;
import org.promptrecovery4j.recovery.TextGenerator;

/**
 * {@code rewrite} (data generation) on Apache Spark: every row ({@code id, original_text, rewrite_prompt}; other
 * columns ignored) is rewritten by an instruct model, through the same per-batch step as the single-machine job
 * ({@link RewriteJob#rewriteBatch}: the pair as one user turn through the chat template, greedy generation with the
 * job's settings, the answer cleaned): each partition in batches of {@code batchSize}, with the model each executor JVM
 * loads once ({@link ExecutorModels}). Unlike the single-machine job, the pairs are given as rows (the plan is the
 * caller's: any DataFrame of pairs), and a row that cannot be rewritten (its prompt does not fit the context with
 * {@code maxNewTokens} to spare, or generation fails for it alone) gets a null {@code rewritten_text} and its error in
 * the {@code error} column; the job goes on. Greedy only (sampling's seeds follow the single-machine plan's positions).
 */
public final class SparkRewrite {

  public static final String ID = KaggleCsv.ID;
  public static final String REWRITTEN_TEXT = KaggleCsv.REWRITTEN_TEXT;
  public static final String ERROR = SparkPredict.ERROR;
  /** The columns read. */
  public static final List<String> REQUIRED = List.of(KaggleCsv.ID, KaggleCsv.ORIGINAL_TEXT, KaggleCsv.REWRITE_PROMPT);

  /** The result's columns: id, rewritten_text (null for a failed row), error (null unless the row failed). */
  public static final StructType OUTPUT = new StructType(new StructField[] {
    DataTypes.createStructField(ID, DataTypes.StringType, false),
    DataTypes.createStructField(REWRITTEN_TEXT, DataTypes.StringType, true),
    DataTypes.createStructField(ERROR, DataTypes.StringType, true)});

  /** What {@code rewrite} is given: the model folder, {@code --max-new-tokens}, {@code --batch-size}, {@code --compute}. */
  public record Settings(String model, int maxNewTokens, int batchSize, WeightStorage compute)
      implements java.io.Serializable {
    public Settings {
      java.util.Objects.requireNonNull(compute, "compute");
      if (maxNewTokens < 1 || batchSize < 1) {
        throw new IllegalArgumentException("max new tokens and batch size must be at least 1, are " + maxNewTokens
            + " and " + batchSize);
      }
    }

    /** The CLI's defaults: 256 new tokens, batches of 8, float32. */
    public static Settings of(Path model) {
      return of(model.toString());
    }

    /** {@link #of(Path)} for a model path as text: a shared path or {@code sparkfiles:NAME/REST} ({@link ModelPaths}). */
    public static Settings of(String model) {
      return new Settings(model,
          RewriteJob.Settings.DEFAULT_MAX_NEW_TOKENS, RewriteJob.Settings.DEFAULT_BATCH_SIZE, WeightStorage.FLOAT32);
    }

    public Settings withMaxNewTokens(int n) {
      return new Settings(model, n, batchSize, compute);
    }

    public Settings withBatchSize(int b) {
      return new Settings(model, maxNewTokens, b, compute);
    }

    public Settings withCompute(WeightStorage c) {
      return new Settings(model, maxNewTokens, batchSize, c);
    }
  }

  /** A loaded instruct model and its chat template. */
  record Rewriter(TextGenerator generator, ChatTemplate template) implements AutoCloseable {
    @Override
    public void close() {
      generator.close();
    }
  }

  private SparkRewrite() {}

  /**
   * The rewrites of {@code rows} (lazy). The model folder is a shared path (the same absolute path on every executor; a
   * relative one is made absolute here, on the driver) or a {@code sparkfiles:} path inside a distributed archive
   * ({@link ModelPaths}).
   */
  public static Dataset<Row> rewrite(Dataset<Row> rows, Settings settings) {
    SparkJobs.requireColumns("rewrite: the rows have", rows, REQUIRED);
    Settings s = new Settings(ModelPaths.forExecutors(settings.model()),
        settings.maxNewTokens(), settings.batchSize(), settings.compute());
    Dataset<Row> in = rows.select(col(ID).cast("string"), col(KaggleCsv.ORIGINAL_TEXT).cast("string"),
        col(KaggleCsv.REWRITE_PROMPT).cast("string"));
    SparkJobs.Counters counters = SparkJobs.Counters.register(rows, "rewrite");
    return SparkJobs.attach(in.mapPartitions(new Rewrites(s, counters), Encoders.row(OUTPUT)), counters);
  }

  /**
   * Writes a result as Parquet into the folder {@code path} (which must not exist yet), committed per task by Spark,
   * and prints the summary line (rows, failed, seconds, rows/s) to {@code log}.
   */
  public static void write(Dataset<Row> result, String path, PrintStream log) {
    SparkJobs.timed(result, path, log, () -> result.write().parquet(path));
  }

  /** The model of {@code s} as the executor loads it (once per JVM). */
  static ExecutorModels.Loaded<Rewriter> model(Settings s) {
    String key = "rewrite\n" + s.model() + "\n" + s.compute();
    return ExecutorModels.get(key, "rewrite " + s.model(), () -> {
      Path dir = ModelPaths.resolve(s.model());
      PromptCodec codec = TokenizerCodecs.load(dir);
      ChatTemplate template = codec.chatTemplate();
      if (template == null) {
        throw new IllegalArgumentException(s.model() + ": the tokenizer has no chat_template (tokenizer_config.json):"
            + " rewriting needs an instruct model");
      }
      return new Rewriter(TextGenerator.load(dir, codec, null, s.compute()), template);
    });
  }

  /** One partition: pairs in, rewrites out, a batch at a time. */
  static final class Rewrites implements MapPartitionsFunction<Row, Row> {
    private final Settings settings;
    private final SparkJobs.Counters counters;

    Rewrites(Settings settings, SparkJobs.Counters counters) {
      this.settings = settings;
      this.counters = counters;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      ExecutorModels.Loaded<Rewriter> loaded = model(settings);
      TextGenerator generator = loaded.model().generator();
      ChatTemplate template = loaded.model().template();
      GenerationConfig greedy = generator.greedy(settings.maxNewTokens(), settings.batchSize());
      int budget = generator.context() - settings.maxNewTokens();
      return new SparkJobs.Batches(rows, settings.batchSize(), batch -> {
        String[] ids = new String[batch.size()];
        String[] rewritten = new String[batch.size()];
        String[] errors = new String[batch.size()];
        List<Integer> fit = new ArrayList<>();
        synchronized (loaded.lock()) {
          for (int i = 0; i < batch.size(); i++) {
            Row r = batch.get(i);
            ids[i] = r.getString(0);
            int n = RewriteJob.promptIds(SparkJobs.text(r, 2), SparkJobs.text(r, 1), generator.codec(), template).length;
            if (n > budget) {
              errors[i] = "IllegalArgumentException: the prompt has " + n + " tokens; with max new tokens "
                  + settings.maxNewTokens() + " it does not fit the model's context of " + generator.context()
                  + " tokens";
            } else {
              fit.add(i);
            }
          }
          List<String> prompts = fit.stream().map(i -> SparkJobs.text(batch.get(i), 2)).toList();
          List<String> originals = fit.stream().map(i -> SparkJobs.text(batch.get(i), 1)).toList();
          try {
            List<String> out = RewriteJob.rewriteBatch(prompts, originals, generator, template, greedy);
            for (int k = 0; k < fit.size(); k++) {
              rewritten[fit.get(k)] = out.get(k);
            }
          } catch (RuntimeException | OutOfMemoryError batchFailure) {
            for (int k = 0; k < fit.size(); k++) {
              try {
                rewritten[fit.get(k)] = RewriteJob.rewriteBatch(List.of(prompts.get(k)), List.of(originals.get(k)),
                    generator, template, greedy).get(0);
              } catch (RuntimeException | OutOfMemoryError e) {
                errors[fit.get(k)] = SparkJobs.error(e);
              }
            }
          }
        }
        List<Row> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
          if (errors[i] != null) {
            System.err.println("rewrite: row " + ids[i] + " failed: " + errors[i]);
          }
          out.add(RowFactory.create(ids[i], rewritten[i], errors[i]));
        }
        return out;
      }, counters, 2);
    }
  }
}
