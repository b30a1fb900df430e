package org.promptrecovery4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.evaluation.Submission;
import org.promptrecovery4j.recovery.RecoveryConfig;

/** {@link SparkPredictApp}: its command line, and a run in local mode equal to the single-machine job. */
class SparkPredictAppTest {

  @Test
  void badArgumentsAreRefusedNamingTheOption() {
    assertThatThrownBy(() -> SparkPredictApp.Options.parse("--config", "c.json", "--output", "out"))
        .hasMessage("missing required option --input");
    assertThatThrownBy(() -> SparkPredictApp.Options.parse("--input", "--config", "c.json"))
        .hasMessage("option --input needs a value");
    assertThatThrownBy(() -> SparkPredictApp.Options.parse("--input", "a.csv", "--config", "c.json", "--output", "o",
        "--format", "json")).hasMessage("--format must be csv or parquet, not \"json\"");
    assertThatThrownBy(() -> SparkPredictApp.Options.parse("--input", "a.csv", "--config", "c.json", "--output", "o",
        "--partitions", "0")).hasMessage("--partitions must be a whole number of at least 1, not \"0\"");
    assertThatThrownBy(() -> SparkPredictApp.Options.parse("--input", "a.csv", "--colour", "red"))
        .hasMessage("unknown option --colour");
    assertThatThrownBy(() -> SparkPredictApp.Options.parse("a.csv", "b"))
        .hasMessage("unexpected argument \"a.csv\"");
    SparkPredictApp.Options o = SparkPredictApp.Options.parse("--input", "a.parquet", "--config", "c.json", "--output",
        "o", "--format", "PARQUET", "--partitions", "3", "--submission", "s.csv");
    assertThat(o).isEqualTo(new SparkPredictApp.Options("a.parquet", Path.of("c.json"), "o",
        SparkPredict.Format.PARQUET, Path.of("s.csv"), 3));
    assertThat(SparkPredictApp.Options.parse("--input", "a", "--config", "c", "--output", "o").format())
        .isEqualTo(SparkPredict.Format.CSV);
  }

  @Test
  void aRunOnTheSampleWritesTheSingleMachineSubmission(@TempDir Path tmp) throws Exception {
    Path cfg = tmp.resolve("recovery.json");
    Files.writeString(cfg, "{\"recoverers\": [{\"type\": \"zero-shot\"}], \"batch_size\": 3}");
    Map<String, String> single = SparkTests.singleMachine(SparkTests.SAMPLE, RecoveryConfig.read(cfg), tmp);
    assertThat(single).hasSize(8);

    Path out = tmp.resolve("out.parquet");
    Path sub = tmp.resolve("submission.csv");
    SparkSession spark = SparkTests.session("local[2]");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    try {
      SparkPredictApp.run(spark, SparkPredictApp.Options.parse("--input", SparkTests.SAMPLE.toString(), "--config",
          cfg.toString(), "--output", out.toString(), "--format", "parquet", "--partitions", "2", "--submission",
          sub.toString()), new PrintStream(log, true, StandardCharsets.UTF_8));
      assertThat(spark.read().parquet(out.toString()).count()).isEqualTo(8);
    } finally {
      spark.stop();
    }
    assertThat(out.resolve("_SUCCESS")).exists();
    Map<String, String> got = new java.util.LinkedHashMap<>();
    Submission.read(sub).forEach(r -> got.put(r.id(), r.prompt()));
    assertThat(got).isEqualTo(single);
    assertThat(log.toString(StandardCharsets.UTF_8))
        .contains("spark predict: wrote 8 prompts to " + sub)
        .containsPattern("spark predict: 8 rows, 0 failed \\(fallback prompt\\) in [0-9.]+ s \\([0-9.]+ rows/s,"
            + " 2 partitions, master local\\[2\\]\\) -> " + java.util.regex.Pattern.quote(out.toString()));
  }
}
