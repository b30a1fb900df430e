package org.promptrecovery4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import java.nio.file.Files;
import java.nio.file.Path;
import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.promptrecovery4j.recovery.KaggleCsv;
import org.promptrecovery4j.recovery.KaggleRow;
import org.promptrecovery4j.recovery.KaggleTable;
import org.promptrecovery4j.recovery.RecoveryConfig;
import org.promptrecovery4j.training.head.HeadTrainer;
import org.promptrecovery4j.training.head.RegressionHead;

/**
 * The real Gemma rows of ../shared (skipped without it) through {@code predict} on Spark ({@code local[2]}, 4
 * partitions; Spark's CSV reader on the real file) and through the single-machine job (the project's reader), with a
 * config of tiny random-weight fixtures (the regressor: tiny DeBERTa features, a seeded head, tiny sentence-t5 over the
 * built-in bank): the same prompt for every id, every id once. The tiny DeBERTa still reads whole texts (~11 rows/s
 * on 2 cores), so a seeded sample of {@value #DEFAULT_ROWS} rows runs by default; {@code -Dpr4j.realRows=0} runs all
 * 1,427 (about 5 minutes: the job twice).
 */
class RealRowsSparkPredictTest {

  static final int DEFAULT_ROWS = 64;

  @Test
  void realRowsOnSparkEqualTheSingleMachineJob(@TempDir Path tmp) throws Exception {
    Assumptions.assumeTrue(Files.isRegularFile(SparkTests.SHARED_CSV), "skipped: " + SparkTests.SHARED_CSV + " is absent");
    Path head = Files.createDirectories(tmp.resolve("head"));
    RegressionHead.initialize(RegressionHead.Config.of(128, 16, 24), 7).save(head.resolve(HeadTrainer.HEAD));
    Path cfg = tmp.resolve("recovery.json");
    Files.writeString(cfg, """
        {"recoverers": [{"type": "regressor", "deberta": "%s", "head": "head", "sentence_t5": "%s", "bank": "builtin",
          "top_k": 2}],
         "clean_rewritten_text": true, "batch_size": 16}
        """.formatted(SparkTests.FIXTURES.resolve("deberta-v3-tiny-features").toAbsolutePath(),
            SparkTests.FIXTURES.resolve("sentence-t5-tiny-text").toAbsolutePath()));
    RecoveryConfig config = RecoveryConfig.read(cfg);
    KaggleTable all = KaggleCsv.read(SparkTests.SHARED_CSV);
    assertThat(all.rows()).hasSize(1427);
    List<KaggleRow> sample = new ArrayList<>(all.rows());
    int n = Integer.getInteger("pr4j.realRows", DEFAULT_ROWS);
    if (n > 0 && n < sample.size()) {
      Collections.shuffle(sample, new Random(5));
      sample = sample.subList(0, n);
    }
    Path input = tmp.resolve("rows.csv");
    KaggleCsv.write(input, new KaggleTable(input, all.header(), sample));
    Map<String, String> single = SparkTests.singleMachine(input, config, tmp);
    assertThat(single).hasSize(sample.size());

    SparkSession spark = SparkTests.session("local[2]");
    try {
      Dataset<Row> rows = SparkPredict.read(spark, SparkTests.SHARED_CSV.toString());
      assertThat(rows.count()).isEqualTo(1427);
      List<Object> ids = sample.stream().map(r -> (Object) r.id()).toList();
      rows = rows.filter(col("id").isInCollection(ids)).repartition(4);
      List<Row> out = SparkPredict.predict(rows, config).collectAsList();
      assertThat(out).hasSize(sample.size()).extracting(r -> r.getString(0)).doesNotHaveDuplicates();
      assertThat(out).allSatisfy(r -> assertThat(r.isNullAt(2)).isTrue());
      assertThat(SparkTests.answers(out)).isEqualTo(single);
    } finally {
      spark.stop();
    }
  }
}
