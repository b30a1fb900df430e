package org.promptrecovery4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.models.sentence.SentenceEmbedder;
import org.promptrecovery4j.core.Csv;
import org.promptrecovery4j.recovery.RewriteJob;
import org.promptrecovery4j.training.features.FeatureJob;

/**
 * {@code embed}, {@code features} and {@code rewrite} on Spark ({@code local[2]}) against the single-machine library calls on the same
 * rows: every id once, the same values row by row, the accumulators' counts, one model load per JVM.
 */
class SparkModelJobsTest {

  static final Path ST5 = SparkTests.FIXTURES.resolve("sentence-t5-tiny-text").toAbsolutePath();
  static final Path DEBERTA = SparkTests.FIXTURES.resolve("deberta-v3-tiny-features").toAbsolutePath();
  static final Path MISTRAL = SparkTests.FIXTURES.resolve("tiny-mistral-text").toAbsolutePath();

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
  void embedEqualsTheSingleMachineEmbedderRowByRow() throws Exception {
    JsonNode want = new ObjectMapper().readTree(ST5.resolve("expected.json").toFile());
    List<String> texts = new ArrayList<>();
    want.get("texts").forEach(t -> texts.add(t.asText())); // 14 texts: long (truncated), short, one empty, line breaks
    List<Row> in = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      in.add(RowFactory.create(String.format("t%02d", i), "other " + i, texts.get(i)));
    }
    StructType schema = new StructType().add("id", DataTypes.StringType).add("other", DataTypes.StringType)
        .add("text", DataTypes.StringType);
    Dataset<Row> rows = spark.createDataFrame(in, schema).repartition(3);

    // the single machine: the embed command's library call, batches of 5 over the whole input
    float[][] single = SentenceEmbedder.load(ST5, 5).embed(texts);

    int loadsBefore = ExecutorModels.loads();
    SparkEmbed.Settings settings = SparkEmbed.Settings.of(ST5.toString()).withBatchSize(5);
    Dataset<Row> result = SparkEmbed.embed(rows, settings);
    List<Row> out = result.collectAsList();
    assertThat(out).hasSize(14).extracting(r -> r.getString(0)).doesNotHaveDuplicates();
    assertThat(out).allSatisfy(r -> assertThat(r.isNullAt(2)).isTrue());
    double max = 0;
    for (Row r : out) {
      int i = Integer.parseInt(r.getString(0).substring(1));
      List<Float> e = r.getList(1);
      assertThat(e).hasSize(single[i].length);
      for (int k = 0; k < e.size(); k++) {
        max = Math.max(max, Math.abs(e.get(k) - single[i][k]));
      }
    }
    System.err.printf("embed: max |spark - single machine| = %.3g over %d rows%n", max, out.size());
    assertThat(max).as("max |spark - single machine|").isLessThanOrEqualTo(1e-6);
    assertThat(SparkJobs.countersOf(result).done().value()).isEqualTo(14);
    assertThat(SparkJobs.countersOf(result).failed().value()).isZero();
    assertThat(SparkJobs.countersOf(result).done().name().get()).isEqualTo("pr4j embed: rows done");

    // a second job (another batch size does not change the model: the same key) reuses what this JVM loaded
    Path dir = tmp.resolve("embeddings.parquet");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    SparkEmbed.write(SparkEmbed.embed(rows, settings), dir.toString(), new PrintStream(log, true));
    assertThat(ExecutorModels.loads()).isEqualTo(loadsBefore + 1);
    assertThat(log.toString(StandardCharsets.UTF_8))
        .containsPattern("spark embed: 14 rows, 0 failed, [0-9.]+ s, [0-9.]+ rows/s -> " + dir);
    List<Row> back = spark.read().parquet(dir.toString()).collectAsList();
    assertThat(back).hasSize(14).extracting(r -> r.getString(0)).doesNotHaveDuplicates();
    for (Row r : back) {
      int i = Integer.parseInt(r.getString(0).substring(1));
      List<Float> e = r.getList(1);
      for (int k = 0; k < e.size(); k++) {
        assertThat(Math.abs(e.get(k) - single[i][k])).isLessThanOrEqualTo(1e-6f);
      }
    }

    assertThatThrownBy(() -> SparkEmbed.embed(rows, settings.withColumn("sentence")))
        .hasMessage("embed: the rows have no column \"sentence\" (columns: id, other, text; needed: id, sentence)");
  }

  @Test
  void featuresEqualTheSingleMachineJobRowByRow() throws Exception {
    Path data = DEBERTA.resolve("data.csv"); // 6 rows, one rewritten text empty
    Path npy = tmp.resolve("features.npy");
    FeatureJob.Result r = FeatureJob.run(FeatureJob.Settings.of(DEBERTA, data, npy).withMaxLength(16).withBatchSize(4));
    assertThat(r.rows()).isEqualTo(6);
    assertThat(r.width()).isEqualTo(128);
    float[] single = npy(npy);
    List<String> ids = new ArrayList<>();
    for (String line : Files.readAllLines(data).subList(1, 7)) {
      ids.add(line.substring(0, line.indexOf(',')));
    }

    Dataset<Row> rows = SparkPredict.read(spark, data.toString()).repartition(2);
    Dataset<Row> result = SparkFeatures.features(rows,
        SparkFeatures.Settings.of(DEBERTA).withMaxLength(16).withBatchSize(4));
    List<Row> out = result.collectAsList();
    assertThat(out).hasSize(6).extracting(x -> x.getString(0)).doesNotHaveDuplicates()
        .containsExactlyInAnyOrderElementsOf(ids);
    assertThat(out).allSatisfy(x -> assertThat(x.isNullAt(2)).isTrue());
    Map<String, List<Float>> byId = new LinkedHashMap<>();
    out.forEach(x -> byId.put(x.getString(0), x.getList(1)));
    double max = 0;
    for (int i = 0; i < ids.size(); i++) {
      List<Float> f = byId.get(ids.get(i));
      assertThat(f).hasSize(128);
      for (int k = 0; k < 128; k++) {
        max = Math.max(max, Math.abs(f.get(k) - single[i * 128 + k]));
      }
    }
    System.err.printf("features: max |spark - single machine| = %.3g over %d rows%n", max, out.size());
    assertThat(max).as("max |spark - single machine|").isLessThanOrEqualTo(1e-6);
    assertThat(SparkJobs.countersOf(result).done().value()).isEqualTo(6);
    assertThat(SparkJobs.countersOf(result).failed().value()).isZero();

    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Path dir = tmp.resolve("features.parquet");
    SparkFeatures.write(result, dir.toString(), new PrintStream(log, true));
    assertThat(log.toString(StandardCharsets.UTF_8))
        .containsPattern("spark features: 6 rows, 0 failed, [0-9.]+ s, [0-9.]+ rows/s -> " + dir);
    assertThat(spark.read().parquet(dir.toString()).count()).isEqualTo(6);
  }

  @Test
  void rewriteEqualsTheSingleMachineJobAndATooLongRowGetsAnError() throws Exception {
    Path texts = tmp.resolve("texts.csv");
    Csv.write(texts, List.of("original_text"), List.of(List.of("The cat sat."), List.of("Rain tomorrow."),
        List.of("A long day at the office, then home.")));
    Path prompts = tmp.resolve("prompts.txt");
    Files.writeString(prompts, "Make it formal.\nMake it a poem.\nTranslate into French.\n");
    Path single = tmp.resolve("rewrites.csv");
    RewriteJob.Result r = RewriteJob.run(RewriteJob.Settings.of(MISTRAL, texts, prompts, single).withMaxNewTokens(6)
        .withBatchSize(3));
    assertThat(r.rows()).isEqualTo(9);
    Csv.Table t = Csv.read(single); // id, original_text, rewritten_text, rewrite_prompt
    Map<String, String> want = new LinkedHashMap<>();
    List<Row> in = new ArrayList<>();
    for (List<String> row : t.rows()) {
      want.put(row.get(0), row.get(2));
      in.add(RowFactory.create(row.get(0), row.get(1), row.get(3)));
    }
    in.add(RowFactory.create("too-long", "word ".repeat(200), "Make it formal."));
    StructType schema = new StructType().add("id", DataTypes.StringType).add("original_text", DataTypes.StringType)
        .add("rewrite_prompt", DataTypes.StringType);
    Dataset<Row> rows = spark.createDataFrame(in, schema).repartition(2);

    Dataset<Row> result = SparkRewrite.rewrite(rows,
        SparkRewrite.Settings.of(MISTRAL).withMaxNewTokens(6).withBatchSize(3));
    List<Row> out = result.collectAsList();
    assertThat(out).hasSize(10).extracting(x -> x.getString(0)).doesNotHaveDuplicates();
    Map<String, String> got = new LinkedHashMap<>();
    for (Row x : out) {
      if (x.getString(0).equals("too-long")) {
        assertThat(x.isNullAt(1)).isTrue();
        assertThat(x.getString(2)).startsWith("IllegalArgumentException: the prompt has ")
            .endsWith("tokens; with max new tokens 6 it does not fit the model's context of 128 tokens");
      } else {
        assertThat(x.isNullAt(2)).as(x.getString(0)).isTrue();
        got.put(x.getString(0), x.getString(1));
      }
    }
    assertThat(got).isEqualTo(want).hasSize(9);
    assertThat(want.values()).anySatisfy(v -> assertThat(v).isNotEmpty());
    assertThat(SparkJobs.countersOf(result).done().value()).isEqualTo(10);
    assertThat(SparkJobs.countersOf(result).failed().value()).isEqualTo(1);

    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Path dir = tmp.resolve("rewrites.parquet");
    SparkRewrite.write(result, dir.toString(), new PrintStream(log, true));
    assertThat(log.toString(StandardCharsets.UTF_8))
        .containsPattern("spark rewrite: 10 rows, 1 failed, [0-9.]+ s, [0-9.]+ rows/s -> " + dir);
    assertThat(spark.read().parquet(dir.toString()).count()).isEqualTo(10);

    assertThatThrownBy(() -> SparkRewrite.rewrite(rows.drop("rewrite_prompt"), SparkRewrite.Settings.of(MISTRAL)))
        .hasMessage("rewrite: the rows have no column \"rewrite_prompt\" (columns: id, original_text; needed: id,"
            + " original_text, rewrite_prompt)");
  }

  /** A float32 .npy's values, row-major. */
  static float[] npy(Path file) throws Exception {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    int header = b.getShort(8) & 0xffff;
    b.position(10 + header);
    float[] f = new float[b.remaining() / 4];
    b.asFloatBuffer().get(f);
    return f;
  }
}
