package org.promptrecovery4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.evaluation.Submission;
import org.promptrecovery4j.recovery.RecoveryConfig;

/** {@code predict} on Spark ({@code local[2]}) against the single-machine {@code predict} on the same rows. */
class SparkPredictTest {

  static SparkSession spark;
  @TempDir static Path tmp;

  @BeforeAll
  static void start() {
    spark = SparkTests.session("local[2]");
    SparkTests.registerFirstWord();
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  @Test
  void zeroShotOnTheSampleEqualsTheSingleMachineJobAndLoadsOncePerJvm() throws Exception {
    Path cfg = tmp.resolve("recovery.json");
    Files.writeString(cfg, "{\"recoverers\": [{\"type\": \"zero-shot\"}], \"batch_size\": 2}");
    RecoveryConfig config = RecoveryConfig.read(cfg);
    Map<String, String> single = SparkTests.singleMachine(SparkTests.SAMPLE, config, tmp);

    Dataset<Row> rows = SparkPredict.read(spark, SparkTests.SAMPLE.toString()).repartition(2);
    assertThat(rows.rdd().getNumPartitions()).isEqualTo(2);
    int loadsBefore = ExecutorModels.loads();
    Dataset<Row> result = SparkPredict.predict(rows, config);
    List<Row> out = result.collectAsList();
    assertThat(out).hasSize(8);
    SparkJobs.Counters counters = SparkJobs.countersOf(result);
    assertThat(counters.done().name().get()).isEqualTo("pr4j predict: rows done");
    assertThat(counters.failed().name().get()).isEqualTo("pr4j predict: rows failed");
    assertThat(counters.done().value()).isEqualTo(8);
    assertThat(counters.failed().value()).isZero();
    assertThat(out).extracting(r -> r.getString(0)).doesNotHaveDuplicates();
    assertThat(out).allSatisfy(r -> assertThat(r.isNullAt(2)).isTrue());
    assertThat(SparkTests.answers(out)).isEqualTo(single);
    assertThat(single.get("s01")).containsIgnoringCase("pirate");
    assertThat(single.get("s02")).containsIgnoringCase("French");

    // a second job with the same config reuses the ensemble this JVM (the local executor) loaded
    List<Row> again = SparkPredict.predict(rows, config).collectAsList();
    assertThat(SparkTests.answers(again)).isEqualTo(single);
    assertThat(ExecutorModels.loads()).isEqualTo(loadsBefore + 1);

    // the single Kaggle CSV, and Spark's CSV writer read back by the project's reader: the same rows
    Path sub = tmp.resolve("submission.csv");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    SparkPredict.writeSubmission(SparkPredict.predict(rows, config), sub, new PrintStream(log, true));
    assertThat(log.toString(StandardCharsets.UTF_8)).contains("spark predict: wrote 8 prompts to " + sub)
        .containsPattern("spark predict: 8 rows, 0 failed, [0-9.]+ s, [0-9.]+ rows/s -> the driver");
    assertThat(Submission.read(sub)).hasSize(8).allSatisfy(r -> assertThat(r.prompt()).isEqualTo(single.get(r.id())));
    Path dir = tmp.resolve("csv-out");
    SparkPredict.write(SparkPredict.predict(rows, config).coalesce(1), dir.toString(), SparkPredict.Format.CSV);
    assertThat(dir.resolve("_SUCCESS")).exists();
    try (var parts = Files.list(dir)) {
      List<Path> csvs = parts.filter(p -> p.getFileName().toString().endsWith(".csv")).toList();
      assertThat(csvs).hasSize(1);
      assertThat(Submission.read(csvs.get(0))).hasSize(8)
          .allSatisfy(r -> assertThat(r.prompt()).isEqualTo(single.get(r.id())));
    }
  }

  @Test
  void aRowThatFailsGetsTheFallbackAndItsErrorAndTheJobGoesOn() throws Exception {
    Path in = tmp.resolve("boom.csv");
    Files.writeString(in, "id,original_text,rewritten_text\n"
        + "r1,a,\"Formal words\"\nr2,b,Casual\nboom3,c,Pirate\nr4,d,\"Poem\nin lines\"\nr5,e,\"Say \"\"hi\"\"\"\n");
    RecoveryConfig config = RecoveryConfig.parse("{\"recoverers\": [{\"type\": \"test-first-word\"}], \"batch_size\": 2,"
        + " \"ensemble\": {\"fallback\": \"Rewrite the text.\"}}", tmp);
    Map<String, String> single = SparkTests.singleMachine(in, config, tmp);

    Dataset<Row> result = SparkPredict.predict(SparkPredict.read(spark, in.toString()).repartition(2), config);
    List<Row> out = result.collectAsList();
    assertThat(out).hasSize(5);
    assertThat(SparkJobs.countersOf(result).done().value()).isEqualTo(5);
    assertThat(SparkJobs.countersOf(result).failed().value()).isEqualTo(1);
    assertThat(SparkTests.answers(out)).isEqualTo(single).containsEntry("boom3", "Rewrite the text.")
        .containsEntry("r4", "Make it Poem").containsEntry("r5", "Make it Say");
    Row boom = out.stream().filter(r -> r.getString(0).equals("boom3")).findFirst().orElseThrow();
    assertThat(boom.getString(2)).isEqualTo("IllegalStateException: boom in row boom3");
    assertThat(out.stream().filter(r -> !r.isNullAt(2)).count()).isEqualTo(1);
  }

  @Test
  void badInputIsRefusedNamingTheFileAndTheColumnOrId() throws Exception {
    Path noText = tmp.resolve("no-text.csv");
    Files.writeString(noText, "id,original_text\nr1,a\n");
    assertThatThrownBy(() -> SparkPredict.read(spark, noText.toString()))
        .hasMessage(noText + ": no column \"rewritten_text\" (columns: id, original_text; needed: id, original_text,"
            + " rewritten_text)");
    Path twice = tmp.resolve("twice.csv");
    Files.writeString(twice, "id,original_text,rewritten_text\nr1,a,b\nr2,a,b\nr1,c,d\n");
    assertThatThrownBy(() -> SparkPredict.read(spark, twice.toString()))
        .hasMessage(twice + ": ids that are not unique (first ones): r1 (2 rows)");
  }
}
