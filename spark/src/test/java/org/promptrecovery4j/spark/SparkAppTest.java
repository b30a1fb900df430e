package org.promptrecovery4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.evaluation.Submission;
import org.promptrecovery4j.models.generation.DecoderOptions.WeightStorage;
import org.promptrecovery4j.models.nn.LinearPrecision;
import org.promptrecovery4j.recovery.RecoveryConfig;

/**
 * {@link SparkApp} (and {@link SparkPredictApp}, its {@code predict}): the command line of each job, and one run of
 * each job in local mode equal to the library call (predict: equal to the single-machine job).
 */
class SparkAppTest {

  static SparkSession spark;
  @TempDir static Path tmp;

  @BeforeAll
  static void start() {
    spark = SparkTests.session("local[2]");
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  @Test
  void badArgumentsAreRefusedNamingTheOption() {
    assertThatThrownBy(() -> SparkPredictApp.options("--config", "c.json", "--output", "out"))
        .hasMessage("missing required option --input");
    assertThatThrownBy(() -> SparkPredictApp.options("--input", "--config", "c.json"))
        .hasMessage("option --input needs a value");
    assertThatThrownBy(() -> SparkPredictApp.options("--input", "a.csv", "--config", "c.json", "--output", "o",
        "--format", "json")).hasMessage("--format must be csv or parquet, not \"json\"");
    assertThatThrownBy(() -> SparkPredictApp.options("--input", "a.csv", "--config", "c.json", "--output", "o",
        "--partitions", "0")).hasMessage("--partitions must be a whole number of at least 1, not \"0\"");
    assertThatThrownBy(() -> SparkPredictApp.options("--input", "a.csv", "--colour", "red"))
        .hasMessage("unknown option --colour");
    assertThatThrownBy(() -> SparkPredictApp.options("a.csv", "b")).hasMessage("unexpected argument \"a.csv\"");
    assertThat(SparkPredictApp.options("--input", "a.parquet", "--config", "c.json", "--output", "o", "--format",
        "PARQUET", "--partitions", "3", "--submission", "s.csv")).isEqualTo(new SparkApp.Options("a.parquet", "o", 3,
            new SparkApp.Predict("c.json", SparkPredict.Format.PARQUET, Path.of("s.csv"))));
    assertThat(((SparkApp.Predict) SparkApp.Options.parse("predict", "--input", "a", "--config", "c", "--output", "o")
        .job()).format()).isEqualTo(SparkPredict.Format.CSV);

    // the job comes first; each job takes its own options
    assertThatThrownBy(() -> SparkApp.Options.parse()).hasMessage("missing the job: one of predict, embed, features,"
        + " rewrite");
    assertThatThrownBy(() -> SparkApp.Options.parse("--input", "a.csv"))
        .hasMessage("missing the job: one of predict, embed, features, rewrite");
    assertThatThrownBy(() -> SparkApp.Options.parse("train", "--input", "a.csv"))
        .hasMessage("unknown job \"train\" (one of predict, embed, features, rewrite)");
    assertThatThrownBy(() -> SparkApp.Options.parse("embed", "--input", "a.csv", "--output", "o"))
        .hasMessage("missing required option --model");
    assertThatThrownBy(() -> SparkApp.Options.parse("embed", "--input", "a", "--model", "m", "--output", "o",
        "--submission", "s.csv")).hasMessage("unknown option --submission for embed");
    assertThatThrownBy(() -> SparkApp.Options.parse("embed", "--input", "a", "--model", "m", "--output", "o",
        "--batch-size", "x")).hasMessage("--batch-size must be a whole number of at least 1, not \"x\"");
    assertThatThrownBy(() -> SparkApp.Options.parse("features", "--input", "a", "--model", "m", "--output", "o",
        "--max-length", "1")).hasMessage("max length must be at least 2 (room for [CLS] and [SEP]), is 1");
    assertThatThrownBy(() -> SparkApp.Options.parse("features", "--input", "a", "--model", "m", "--output", "o",
        "--compute", "fp8")).hasMessage("unknown compute precision 'fp8' (float32, bf16)");
    assertThatThrownBy(() -> SparkApp.Options.parse("rewrite", "--input", "a", "--model", "m", "--output", "o",
        "--max-new-tokens", "-3")).hasMessage("--max-new-tokens must be a whole number of at least 1, not \"-3\"");
    assertThatThrownBy(() -> SparkApp.Options.parse("rewrite", "--input", "a", "--model", "m", "--output", "o",
        "--compute", "int4")).hasMessageContaining("int4");

    assertThat(SparkApp.Options.parse("embed", "--input", "a", "--model", "sparkfiles:models/st5", "--output", "o",
        "--kaggle-compat", "--batch-size", "4", "--column", "rewritten_text")).isEqualTo(new SparkApp.Options("a", "o",
            null, new SparkApp.Embed(new SparkEmbed.Settings("sparkfiles:models/st5", 4, "rewritten_text", true))));
    assertThat(SparkApp.Options.parse("features", "--input", "a", "--model", "m", "--output", "o", "--compute", "bf16",
        "--max-length", "16", "--partitions", "2")).isEqualTo(new SparkApp.Options("a", "o", 2, new SparkApp.Features(
            SparkFeatures.Settings.of("m").withMaxLength(16).withCompute(LinearPrecision.BF16))));
    assertThat(SparkApp.Options.parse("rewrite", "--input", "a", "--model", "m", "--output", "o", "--compute", "bf16",
        "--max-new-tokens", "9", "--batch-size", "2")).isEqualTo(new SparkApp.Options("a", "o", null,
            new SparkApp.Rewrite(new SparkRewrite.Settings("m", 9, 2, WeightStorage.BF16))));
  }

  @Test
  void predictOnTheSampleWritesTheSingleMachineSubmission() throws Exception {
    Path cfg = tmp.resolve("recovery.json");
    java.nio.file.Files.writeString(cfg, "{\"recoverers\": [{\"type\": \"zero-shot\"}], \"batch_size\": 3}");
    Map<String, String> single = SparkTests.singleMachine(SparkTests.SAMPLE, RecoveryConfig.read(cfg), tmp);
    assertThat(single).hasSize(8);

    Path out = tmp.resolve("predict.parquet");
    Path sub = tmp.resolve("submission.csv");
    String log = run("predict", "--input", SparkTests.SAMPLE.toString(), "--config", cfg.toString(), "--output",
        out.toString(), "--format", "parquet", "--partitions", "2", "--submission", sub.toString());
    assertThat(spark.read().parquet(out.toString()).count()).isEqualTo(8);
    assertThat(out.resolve("_SUCCESS")).exists();
    Map<String, String> got = new LinkedHashMap<>();
    Submission.read(sub).forEach(r -> got.put(r.id(), r.prompt()));
    assertThat(got).isEqualTo(single);
    assertThat(log).contains("spark predict: wrote 8 prompts to " + sub)
        .containsPattern("spark predict: 8 rows, 0 failed \\(fallback prompt\\) in [0-9.]+ s \\([0-9.]+ rows/s,"
            + " 2 partitions, master local\\[2\\]\\) -> " + Pattern.quote(out.toString()));
  }

  @Test
  void embedFeaturesAndRewriteWriteWhatTheLibraryCallsGive() throws Exception {
    String sample = SparkTests.SAMPLE.toString();
    // embed: the rewritten texts of the sample, 2 partitions, batches of 3
    Path emb = tmp.resolve("embed.parquet");
    String log = run("embed", "--input", sample, "--column", "rewritten_text", "--model",
        SparkModelJobsTest.ST5.toString(), "--batch-size", "3", "--partitions", "2", "--output", emb.toString());
    Dataset<Row> rows = SparkPredict.read(spark, sample).repartition(2);
    assertThat(values(spark.read().parquet(emb.toString()))).hasSize(8).isEqualTo(values(SparkEmbed.embed(rows,
        SparkEmbed.Settings.of(SparkModelJobsTest.ST5.toString()).withBatchSize(3).withColumn("rewritten_text"))));
    assertThat(log).containsPattern("spark embed: 8 rows, 0 failed, [0-9.]+ s, [0-9.]+ rows/s -> " + emb)
        .containsPattern("spark embed: 8 rows, 0 failed in [0-9.]+ s \\([0-9.]+ rows/s, 2 partitions, master"
            + " local\\[2\\]\\) -> " + emb);

    // features: the sample's pairs, 16 tokens, batches of 4
    Path feat = tmp.resolve("features.parquet");
    log = run("features", "--input", sample, "--model", SparkModelJobsTest.DEBERTA.toString(), "--max-length", "16",
        "--batch-size", "4", "--partitions", "2", "--output", feat.toString());
    assertThat(values(spark.read().parquet(feat.toString()))).hasSize(8).isEqualTo(values(SparkFeatures.features(rows,
        SparkFeatures.Settings.of(SparkModelJobsTest.DEBERTA).withMaxLength(16).withBatchSize(4))));
    assertThat(log).containsPattern("spark features: 8 rows, 0 failed in [0-9.]+ s");

    // rewrite: three pairs, 5 new tokens
    Path pairs = pairs(tmp.resolve("pairs.csv"));
    Path rw = tmp.resolve("rewrite.parquet");
    log = run("rewrite", "--input", pairs.toString(), "--model", SparkModelJobsTest.MISTRAL.toString(),
        "--max-new-tokens", "5", "--batch-size", "2", "--output", rw.toString());
    Map<String, List<Object>> got = values(spark.read().parquet(rw.toString()));
    assertThat(got).hasSize(3).isEqualTo(values(SparkRewrite.rewrite(SparkJobs.read(spark, pairs.toString(),
        SparkRewrite.REQUIRED), SparkRewrite.Settings.of(SparkModelJobsTest.MISTRAL).withMaxNewTokens(5)
        .withBatchSize(2))));
    assertThat(got.values()).allSatisfy(v -> assertThat(v.get(1)).isNull()); // no errors
    assertThat(log).containsPattern("spark rewrite: 3 rows, 0 failed in [0-9.]+ s");
  }

  /** Three (id, original_text, rewrite_prompt) rows as a CSV. */
  static Path pairs(Path csv) throws java.io.IOException {
    Csv.write(csv, List.of("id", "original_text", "rewrite_prompt"), List.of(List.of("p1", "The cat sat.",
        "Make it formal."), List.of("p2", "Rain tomorrow.", "Make it a poem."), List.of("p3",
        "A long day at the office, then home.", "Translate into French.")));
    return csv;
  }

  /** id -> [value (a list of floats, or a text), error] of a job's result or its Parquet output. */
  static Map<String, List<Object>> values(Dataset<Row> d) {
    Map<String, List<Object>> m = new LinkedHashMap<>();
    for (Row r : d.collectAsList()) {
      Object v = r.get(1) instanceof scala.collection.Seq<?> ? r.getList(1) : r.get(1);
      assertThat(m.put(r.getString(0), java.util.Arrays.asList(v, r.get(2)))).as("id " + r.getString(0)).isNull();
    }
    return m;
  }

  /** Runs {@code SparkApp ARGS} in the test's session; its log. */
  static String run(String... args) throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    SparkApp.run(spark, SparkApp.Options.parse(args), new PrintStream(log, true, StandardCharsets.UTF_8));
    return log.toString(StandardCharsets.UTF_8);
  }
}
