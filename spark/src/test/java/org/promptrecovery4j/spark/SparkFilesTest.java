package org.promptrecovery4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.SparkFiles;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.recovery.RecoveryConfig;
import org.promptrecovery4j.training.head.HeadTrainer;
import org.promptrecovery4j.training.head.RegressionHead;

/**
 * Model folders through Spark's file distribution ({@link ModelPaths}), in local mode: one zip of the tiny fixture
 * models and a predict config with relative paths, added with {@code SparkContext.addArchive("models.zip#models")};
 * the four jobs given {@code sparkfiles:models/...} paths give what the same folder as a shared path gives (same ids,
 * same values); a missing archive or path is an error naming both.
 */
class SparkFilesTest {

  static SparkSession spark;
  @TempDir static Path tmp;
  /** The archive's content, unpacked: the shared-path run reads it here. */
  static Path shared;

  @BeforeAll
  static void start() throws Exception {
    shared = Files.createDirectories(tmp.resolve("models"));
    for (Path model : List.of(SparkModelJobsTest.ST5, SparkModelJobsTest.DEBERTA, SparkModelJobsTest.MISTRAL)) {
      copy(model, shared.resolve(model.getFileName()));
    }
    Path head = Files.createDirectories(shared.resolve("head"));
    RegressionHead.initialize(RegressionHead.Config.of(128, 16, 24), 7).save(head.resolve(HeadTrainer.HEAD));
    Files.writeString(shared.resolve("recovery.json"), """
        {"recoverers": [{"type": "regressor", "deberta": "deberta-v3-tiny-features", "head": "head",
          "sentence_t5": "sentence-t5-tiny-text", "bank": "builtin", "top_k": 2}],
         "clean_rewritten_text": true, "batch_size": 4}
        """);
    Path zip = SparkTests.zip(shared, tmp.resolve("models.zip"));
    spark = SparkTests.session("local[2]");
    spark.sparkContext().addArchive(zip + "#models");
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  @Test
  void predictWithAConfigInTheArchiveEqualsTheSharedPath() throws Exception {
    Dataset<Row> rows = SparkPredict.read(spark, SparkTests.SAMPLE.toString()).repartition(2);
    RecoveryConfig atShared = RecoveryConfig.read(shared.resolve("recovery.json"));
    RecoveryConfig inArchive = ModelPaths.readConfig("sparkfiles:models/recovery.json");
    // read on the driver from its own SparkFiles root; sent to executors as a path inside the archive
    assertThat(inArchive.baseDir()).isEqualTo(Path.of(SparkFiles.get("models")));
    assertThat(ExecutorModels.ConfigSpec.of(inArchive).baseDir()).isEqualTo("sparkfiles:models");
    assertThat(ExecutorModels.ConfigSpec.of(atShared).baseDir()).isEqualTo(shared.toString());

    List<Row> a = SparkPredict.predict(rows, atShared).collectAsList();
    List<Row> b = SparkPredict.predict(rows, inArchive).collectAsList();
    assertThat(b).hasSize(8).extracting(r -> r.getString(0)).doesNotHaveDuplicates();
    assertThat(b).allSatisfy(r -> assertThat(r.isNullAt(2)).as(r.getString(0)).isTrue());
    assertThat(SparkTests.answers(b)).isEqualTo(SparkTests.answers(a)).hasSize(8);
  }

  @Test
  void embedFeaturesAndRewriteFromTheArchiveEqualTheSharedPath() throws Exception {
    Dataset<Row> rows = SparkPredict.read(spark, SparkTests.SAMPLE.toString()).repartition(2);
    SparkEmbed.Settings embed = SparkEmbed.Settings.of("sparkfiles:models/sentence-t5-tiny-text").withBatchSize(3)
        .withColumn("rewritten_text");
    Map<String, List<Object>> e = SparkAppTest.values(SparkEmbed.embed(rows, embed));
    assertThat(e).hasSize(8).isEqualTo(SparkAppTest.values(SparkEmbed.embed(rows, new SparkEmbed.Settings(
        shared.resolve("sentence-t5-tiny-text").toString(), 3, "rewritten_text", false))));
    assertThat(e.values()).allSatisfy(v -> assertThat((List<?>) v.get(0)).hasSize(24));

    Map<String, List<Object>> f = SparkAppTest.values(SparkFeatures.features(rows,
        SparkFeatures.Settings.of("sparkfiles:models/deberta-v3-tiny-features").withMaxLength(16).withBatchSize(4)));
    assertThat(f).hasSize(8).isEqualTo(SparkAppTest.values(SparkFeatures.features(rows,
        SparkFeatures.Settings.of(shared.resolve("deberta-v3-tiny-features")).withMaxLength(16).withBatchSize(4))));
    assertThat(f.values()).allSatisfy(v -> assertThat((List<?>) v.get(0)).hasSize(128));

    // rewrite through the application, as spark-submit --archives ... would run it
    Path pairs = SparkAppTest.pairs(tmp.resolve("pairs.csv"));
    Path out = tmp.resolve("rewrites.parquet");
    SparkApp.run(spark, SparkApp.Options.parse("rewrite", "--input", pairs.toString(), "--model",
        "sparkfiles:models/tiny-mistral-text", "--max-new-tokens", "5", "--batch-size", "2", "--output",
        out.toString()), new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    assertThat(SparkAppTest.values(spark.read().parquet(out.toString()))).hasSize(3).isEqualTo(SparkAppTest.values(
        SparkRewrite.rewrite(SparkJobs.read(spark, pairs.toString(), SparkRewrite.REQUIRED),
            SparkRewrite.Settings.of(shared.resolve("tiny-mistral-text")).withMaxNewTokens(5).withBatchSize(2))));
  }

  @Test
  void aMissingArchiveOrPathIsAnErrorNamingThem() {
    Path root = Path.of(SparkFiles.getRootDirectory()).toAbsolutePath().normalize();
    Dataset<Row> rows = SparkPredict.read(spark, SparkTests.SAMPLE.toString());
    // on the executor: no archive "absent" was distributed
    assertThatThrownBy(() -> SparkEmbed.embed(rows, SparkEmbed.Settings.of("sparkfiles:absent/sentence-t5-tiny-text")
        .withColumn("rewritten_text")).collectAsList())
        .hasMessageContaining("IllegalArgumentException: sparkfiles:absent/sentence-t5-tiny-text: " + root
            + "/absent/sentence-t5-tiny-text does not exist: no archive or file \"absent\" was distributed to this JVM"
            + " (spark-submit --archives FILE#absent or --files, SparkContext.addArchive(\"FILE#absent\"); here: ")
        .hasMessageContaining("here: models in " + root + ")");
    // on the executor: the archive is there, the folder is not
    assertThatThrownBy(() -> SparkFeatures.features(rows, SparkFeatures.Settings.of("sparkfiles:models/deberta-large"))
        .collectAsList()).hasMessageContaining("IllegalArgumentException: sparkfiles:models/deberta-large: " + root
            + "/models/deberta-large does not exist: the archive \"models\" is here but has no deberta-large");
    // on the driver: the config
    assertThatThrownBy(() -> ModelPaths.readConfig("sparkfiles:absent/recovery.json"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("sparkfiles:absent/recovery.json: " + root + "/absent/recovery.json does not exist:"
            + " no archive or file \"absent\" was distributed");
    assertThatThrownBy(() -> ModelPaths.forExecutors("sparkfiles:../etc/passwd"))
        .hasMessage("sparkfiles:../etc/passwd: a sparkfiles: path names an archive and a path inside it, as in"
            + " sparkfiles:models/sentence-t5-base");
    // a path inside the driver's SparkFiles root means the same path inside each executor's
    assertThat(ModelPaths.forExecutors(SparkFiles.get("models") + "/head")).isEqualTo("sparkfiles:models/head");
    assertThat(ModelPaths.forExecutors("sparkfiles:/models//head/")).isEqualTo("sparkfiles:models/head");
    assertThat(ModelPaths.forExecutors("relative/dir")).isEqualTo(Path.of("relative/dir").toAbsolutePath().toString());
  }

  private static void copy(Path from, Path to) throws java.io.IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }
}
